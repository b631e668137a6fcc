import { describe, expect, test } from "bun:test";
import { StepError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { SyncMapping, SyncSink } from "../../core/workload.ts";
import {
  type RcloneSetup,
  mkdirCommand,
  parseProbe,
  parseTenantList,
  planDownload,
  planUpload,
  probeCommand,
  rcloneEnv,
  runsIn,
  tenantListCommand,
  transferCommand,
} from "./commands.ts";

const KEY_ID = "AKIAEXAMPLEKEYID1234";
const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

const sink = (over: Partial<SyncSink> = {}): SyncSink => ({
  type: "s3",
  bucket: "kiln-state",
  endpoint: "http://127.0.0.1:9000",
  region: "eu-west-1",
  accessKeyId: new Secret(KEY_ID),
  secretAccessKey: new Secret(SECRET_KEY),
  prefix: "tenants/${tenantId}/",
  rcloneFlags: [],
  ...over,
});
const setup = (over: Partial<SyncSink> = {}, extra: Partial<RcloneSetup> = {}): RcloneSetup => ({ sink: sink(over), ...extra });
const mapping = (direction: SyncMapping["direction"], mode: SyncMapping["mode"] = "sync"): SyncMapping => ({ path: "/", direction, mode });

describe("runsIn", () => {
  test("a mapping runs only in the directions it allows", () => {
    expect(runsIn(mapping("upload"), "upload")).toBe(true);
    expect(runsIn(mapping("upload"), "download")).toBe(false);
    expect(runsIn(mapping("download"), "upload")).toBe(false);
    expect(runsIn(mapping("download"), "download")).toBe(true);
    expect(runsIn(mapping("bidirectional"), "upload")).toBe(true);
    expect(runsIn(mapping("bidirectional"), "download")).toBe(true);
  });
});

describe("plans", () => {
  const L = "/state/x";
  const R = "kilns3:b/t/a/x";
  test("upload: dir by mode, file by copyto, missing skipped", () => {
    expect(planUpload({ mode: "sync", local: L, remote: R, localKind: "dir" })).toEqual({ action: "transfer", verb: "sync", src: L, dst: R });
    expect(planUpload({ mode: "copy", local: L, remote: R, localKind: "dir" })).toEqual({ action: "transfer", verb: "copy", src: L, dst: R });
    expect(planUpload({ mode: "sync", local: L, remote: R, localKind: "file" })).toEqual({ action: "transfer", verb: "copyto", src: L, dst: R });
    expect(planUpload({ mode: "copy", local: L, remote: R, localKind: "missing" }).action).toBe("skip");
  });
  test("download: by what is stored", () => {
    expect(planDownload({ mode: "sync", local: L, remote: R, localKind: "missing", remoteKind: "dir" })).toEqual({ action: "transfer", verb: "sync", src: R, dst: L });
    expect(planDownload({ mode: "copy", local: L, remote: R, localKind: "dir", remoteKind: "dir" })).toEqual({ action: "transfer", verb: "copy", src: R, dst: L });
    expect(planDownload({ mode: "sync", local: L, remote: R, localKind: "missing", remoteKind: "file" })).toEqual({ action: "transfer", verb: "copyto", src: R, dst: L });
    expect(planDownload({ mode: "sync", local: L, remote: R, localKind: "missing", remoteKind: "missing" }).action).toBe("skip");
    // a local file with nothing stored under its key is left alone
    expect(planDownload({ mode: "sync", local: L, remote: R, localKind: "file", remoteKind: "dir" }).action).toBe("skip");
  });
});

describe("rcloneEnv", () => {
  test("defines the remote through env only, keys as Secrets, no config file, no AWS_CA_BUNDLE", () => {
    const { env, unsetEnv } = rcloneEnv(setup());
    expect(env?.RCLONE_CONFIG).toBe("/dev/null");
    expect(env?.RCLONE_CONFIG_KILNS3_TYPE).toBe("s3");
    expect(env?.RCLONE_CONFIG_KILNS3_PROVIDER).toBe("Other");
    expect(env?.RCLONE_CONFIG_KILNS3_ENDPOINT).toBe("http://127.0.0.1:9000");
    expect(env?.RCLONE_CONFIG_KILNS3_FORCE_PATH_STYLE).toBe("true");
    expect(env?.RCLONE_CONFIG_KILNS3_REGION).toBe("eu-west-1");
    expect(env?.RCLONE_CONFIG_KILNS3_ACCESS_KEY_ID).toBeInstanceOf(Secret);
    expect(env?.RCLONE_CONFIG_KILNS3_SECRET_ACCESS_KEY).toBeInstanceOf(Secret);
    expect((env?.RCLONE_CONFIG_KILNS3_SECRET_ACCESS_KEY as Secret).reveal()).toBe(SECRET_KEY);
    expect(unsetEnv).toContain("AWS_CA_BUNDLE");
  });

  test("plain AWS without endpoint; env_auth without keys", () => {
    const { env } = rcloneEnv(setup({ endpoint: undefined, accessKeyId: undefined, secretAccessKey: undefined }));
    expect(env?.RCLONE_CONFIG_KILNS3_PROVIDER).toBe("AWS");
    expect(env?.RCLONE_CONFIG_KILNS3_ENDPOINT).toBeUndefined();
    expect(env?.RCLONE_CONFIG_KILNS3_ENV_AUTH).toBe("true");
    expect(env?.RCLONE_CONFIG_KILNS3_ACCESS_KEY_ID).toBeUndefined();
  });

  test("half a key pair is an error", () => {
    expect(() => rcloneEnv(setup({ secretAccessKey: undefined }))).toThrow(StepError);
  });

  test("inherited RCLONE_* variables are removed, others kept", () => {
    const { unsetEnv } = rcloneEnv(setup({}, { inheritedEnvKeys: ["PATH", "RCLONE_DRY_RUN", "RCLONE_CONFIG_KILNS3_ENDPOINT", "HOME"] }));
    expect(unsetEnv).toEqual(["AWS_CA_BUNDLE", "RCLONE_DRY_RUN", "RCLONE_CONFIG_KILNS3_ENDPOINT"]);
  });
});

describe("commands", () => {
  const commands = () => {
    const s = setup({ rcloneFlags: ["--transfers", "8"] }, { bin: "/usr/bin/rclone" });
    return [
      mkdirCommand(s),
      probeCommand(s, "kilns3:kiln-state/tenants/a"),
      transferCommand(s, { action: "transfer", verb: "sync", src: "/state", dst: "kilns3:kiln-state/tenants/a" }, { noCheckBucket: true }),
      transferCommand(s, { action: "transfer", verb: "copyto", src: "kilns3:kiln-state/tenants/a/db", dst: "/state/db" }),
      tenantListCommand(s, "kilns3:kiln-state/tenants/a"),
    ];
  };

  test("no key in any argv, and AWS_CA_BUNDLE unset in every command", () => {
    for (const cmd of commands()) {
      const argv = cmd.argv.join("\n");
      expect(argv).not.toContain(KEY_ID);
      expect(argv).not.toContain(SECRET_KEY);
      expect(argv).not.toContain("[secret]");
      expect(cmd.unsetEnv).toContain("AWS_CA_BUNDLE");
      expect(cmd.env?.RCLONE_CONFIG).toBe("/dev/null");
      // spec flags come last, so they can override Kiln's
      expect(cmd.argv.slice(-2)).toEqual(["--transfers", "8"]);
    }
  });

  test("argv shapes", () => {
    const [mk, probe, sync, copyto, list] = commands();
    const common = ["--log-format", "", "--retries", "2", "--low-level-retries", "3", "--contimeout", "10s", "--timeout", "2m"];
    expect(mk?.argv).toEqual(["/usr/bin/rclone", "mkdir", "kilns3:kiln-state", ...common, "--transfers", "8"]);
    expect(probe?.argv).toEqual(["/usr/bin/rclone", "lsjson", "--stat", "kilns3:kiln-state/tenants/a", ...common, "--transfers", "8"]);
    expect(sync?.argv).toEqual([
      "/usr/bin/rclone", "sync", "/state", "kilns3:kiln-state/tenants/a",
      "--stats", "1s", "--stats-one-line", "--stats-log-level", "NOTICE",
      "--fast-list", "--s3-no-check-bucket",
      ...common, "--transfers", "8",
    ]);
    expect(copyto?.argv.slice(0, 4)).toEqual(["/usr/bin/rclone", "copyto", "kilns3:kiln-state/tenants/a/db", "/state/db"]);
    expect(copyto?.argv).not.toContain("--fast-list");
    expect(copyto?.argv).not.toContain("--s3-no-check-bucket");
    expect(list?.argv).toEqual(["/usr/bin/rclone", "lsf", "-R", "--fast-list", "kilns3:kiln-state/tenants/a", ...common, "--transfers", "8"]);
  });

  test("copy mode uses rclone copy (no deletions)", () => {
    const cmd = transferCommand(setup(), { action: "transfer", verb: "copy", src: "/state", dst: "kilns3:kiln-state/t/a" });
    expect(cmd.argv[1]).toBe("copy");
  });
});

describe("parseProbe", () => {
  test("file or dir", () => {
    expect(parseProbe('{"Path":"a.txt","Name":"a.txt","Size":3,"IsDir":false}')).toBe("file");
    expect(parseProbe('{\n"Path": "",\n"Size": -1,\n"IsDir": true\n}')).toBe("dir");
  });
  test("junk is an error", () => {
    expect(() => parseProbe("nope")).toThrow(StepError);
    expect(() => parseProbe("{}")).toThrow(StepError);
  });
});

describe("parseTenantList", () => {
  test("any name is stored state; nothing (or blank lines) is none", () => {
    expect(parseTenantList("hits\nnested/\n")).toBe(true);
    expect(parseTenantList("nested/")).toBe(true);
    expect(parseTenantList("")).toBe(false);
    expect(parseTenantList("\n  \n")).toBe(false);
  });
});
