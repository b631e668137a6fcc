import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secret } from "../../core/secret.ts";
import { WorkloadSpecError } from "./errors.ts";
import { isWorkloadFileName, loadWorkloadDir, loadWorkloadFile, parseWorkload, rejectDuplicateIds } from "./load.ts";

const FILE = "workloads/t.yaml";
const ok = (text: string, env: Record<string, string> = {}) => {
  const r = parseWorkload(text, FILE, env);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.spec;
};
const errors = (text: string, env: Record<string, string> = {}) => {
  const r = parseWorkload(text, FILE, env);
  return r.ok ? [] : r.errors.map((e) => e.message);
};

/** The example from the Boilerhouse README, with its sync block completed. */
const SEED = `
id: my-worker
name: My Worker
image: myregistry/my-worker:latest
volumes:
  state:
    target: /data
  secrets:
    target: /secrets
    read_only: true
environment:
  DATA_DIR: /data
  LOG_LEVEL: info
healthcheck:
  test: ["CMD", "curl", "-f", "http://localhost:8080/health"]
  interval: 30s
  timeout: 5s
  retries: 3
  start_period: 10s
deploy:
  resources:
    limits:
      cpus: "2"
      memory: 2G
read_only: false
user: "1000"
network_mode: none
pool:
  min_size: 2
  max_size: 20
  idle_timeout: 10m
sync:
  sink:
    type: s3
    bucket: my-bucket
    region: us-east-1
    endpoint: \${S3_ENDPOINT:-http://127.0.0.1:9000}
    access_key_id: \${S3_KEY}
    secret_access_key: \${S3_SECRET}
    prefix: tenants/\${tenantId}/
    rclone_flags:
      - "--s3-force-path-style"
  mappings:
    - path: /
      direction: bidirectional
      mode: sync
  policy:
    on_claim: true
    on_release: true
    manual: true
    periodic: 5m
`;

describe("parseWorkload", () => {
  test("the README example loads", () => {
    const w = ok(SEED, { S3_KEY: "AKIA123", S3_SECRET: "s3cr3t-value" });
    expect(w).toMatchObject({ id: "my-worker", image: "myregistry/my-worker:latest", state: { target: "/data" }, user: "1000", readOnly: false, port: null });
    expect(w.sync?.sink).toMatchObject({ endpoint: "http://127.0.0.1:9000", prefix: "tenants/${tenantId}/", rcloneFlags: ["--s3-force-path-style"] });
    expect(w.sync?.sink.secretAccessKey).toBeInstanceOf(Secret);
    expect(w.sync?.sink.secretAccessKey?.reveal()).toBe("s3cr3t-value");
    expect(w.sync?.policy.periodicMs).toBe(300_000);
    expect(w.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(w)).not.toContain("s3cr3t-value");
    expect(Bun.inspect(w)).not.toContain("s3cr3t-value");
  });

  test("the example in workloads/echo.yaml loads", async () => {
    const w = await loadWorkloadFile(join(import.meta.dir, "../../../workloads/echo.yaml"), {});
    expect(w).toMatchObject({
      id: "echo",
      image: "kiln/node-runtime:20-host",
      state: { target: "/state" },
      secrets: { target: "/secrets", readOnly: true },
      user: "1000:1000",
      port: 8080,
      readOnly: true,
      pool: { minSize: 2, maxSize: 5, idleTimeoutMs: 600_000 },
      sync: null,
    });
    expect(w.healthcheck).toMatchObject({ intervalMs: 1000, timeoutMs: 2000, retries: 3 });
    expect(w.command?.[0]).toBe("node");
  });

  test("interpolates ${VAR} and ${VAR:-default} anywhere, numbers included", () => {
    const w = ok("id: ${ID}\nimage: img:${TAG:-latest}\nports: ['${PORT}']\npool:\n  max_size: ${MAX:-7}\nenvironment:\n  URL: http://${HOST}/x\n", { ID: "w1", PORT: "3000", HOST: "db" });
    expect([w.id, w.image, w.port, w.pool.maxSize, w.environment.URL]).toEqual(["w1", "img:latest", 3000, 7, "http://db/x"]);
  });

  test("a missing variable is an error naming it and the field", () => {
    const r = parseWorkload("id: a\nimage: b\nenvironment:\n  TOKEN: ${API_TOKEN}\n", FILE, {});
    expect(r.ok).toBe(false);
    const e = !r.ok ? r.errors[0]! : null;
    expect(e?.message).toBe(`${FILE}: environment.TOKEN: \${API_TOKEN} is not set in Kiln's environment`);
    expect(e?.field).toBe("environment.TOKEN");
    expect(e?.hint).toContain("${API_TOKEN:-value}");
  });

  test("secrets from env never show up in errors", () => {
    const msgs = errors("id: a\nimage: b\nsync:\n  sink:\n    type: s3\n    bucket: B@D\n    secret_access_key: ${S}\n    access_key_id: ${S}\n", { S: "topsecretvalue" });
    expect(msgs).toEqual([expect.stringContaining("sync.sink.bucket: must be an S3 bucket name")]);
    expect(msgs.join("")).not.toContain("topsecretvalue");
  });

  test("the hash follows the text and the env values used, not unused env", () => {
    const text = "id: a\nimage: b\nenvironment:\n  K: ${KEY}\n";
    const h = (env: Record<string, string>) => ok(text, env).hash;
    expect(h({ KEY: "1" })).toBe(h({ KEY: "1", OTHER: "x" }));
    expect(h({ KEY: "1" })).not.toBe(h({ KEY: "2" }));
    expect(ok(text + "name: x\n", { KEY: "1" }).hash).not.toBe(h({ KEY: "1" }));
  });

  test("file-level problems", () => {
    expect(errors("")).toEqual([`${FILE}: is empty: a workload needs at least id and image`]);
    expect(errors("- a\n- b\n")).toEqual([`${FILE}: must be a mapping of workload fields (id, image, …), not a list`]);
    expect(errors("just text")).toEqual([`${FILE}: must be a mapping of workload fields (id, image, …), not string`]);
    expect(errors("id: a\nimage: [b\n")[0]).toMatch(/^workloads\/t\.yaml: line 2: YAML syntax error/);
  });

  test("every problem in a file is reported", () => {
    expect(errors("id: A\nimgae: b\npool:\n  max_size: 0\n")).toEqual([
      `${FILE}: id: must be a DNS label: 1–40 lowercase letters, digits or '-', starting and ending with a letter or digit`,
      `${FILE}: image: is required`,
      `${FILE}: pool.max_size: must be from 1 to 1000`,
      `${FILE}: imgae: unknown field: did you mean "image"?`,
    ]);
  });
});

describe("files and folders", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kiln-spec-load-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("isWorkloadFileName", () => {
    expect(["a.yaml", "b.yml"].every(isWorkloadFileName)).toBe(true);
    expect([".a.yaml", "a.yaml~", "a.yaml.swp", "a.json", "README.md"].some(isWorkloadFileName)).toBe(false);
  });

  test("loadWorkloadFile: a missing file, and the first of several problems", async () => {
    await expect(loadWorkloadFile(join(dir, "nope.yaml"), {})).rejects.toThrow(`${join(dir, "nope.yaml")}: does not exist`);
    const file = join(dir, "single.yaml");
    await writeFile(file, "id: ok\nimage: b\nuser: app\npool:\n  max_size: 0\n");
    const err = await loadWorkloadFile(file, {}).catch((e) => e);
    expect(err).toBeInstanceOf(WorkloadSpecError);
    expect(err.message).toBe(`${file}: user: must be a numeric uid or uid:gid, e.g. "1000" or "1000:1000": Kiln cannot look user names up in the image without running it`);
    expect(err.hint).toContain("1 more problem(s) in this file: pool.max_size");
  });

  test("loadWorkloadDir: good files load, bad ones are errors, duplicates name both files", async () => {
    const sub = join(dir, "workloads");
    await mkdir(sub);
    await writeFile(join(sub, "a.yaml"), "id: alpha\nimage: img\n");
    await writeFile(join(sub, "b.yml"), "id: beta\nimage: img\n");
    await writeFile(join(sub, "c.yaml"), "id: alpha\nimage: other\n");
    await writeFile(join(sub, "d.yaml"), "id: delta\nimage: img\npool: {max_size: 0}\n");
    await writeFile(join(sub, "e.yaml"), "id: [oops\n");
    await writeFile(join(sub, ".hidden.yaml"), "not: loaded\n");
    await writeFile(join(sub, "notes.txt"), "ignored");
    await mkdir(join(sub, "dir.yaml"));
    const { workloads, errors } = await loadWorkloadDir(sub, {});
    expect(workloads.map((w) => [w.id, w.file])).toEqual([
      ["alpha", join(sub, "a.yaml")],
      ["beta", join(sub, "b.yml")],
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      `${join(sub, "d.yaml")}: pool.max_size: must be from 1 to 1000`,
      expect.stringMatching(/e\.yaml: line 1: YAML syntax error: \w/),
      `${join(sub, "c.yaml")}: id: "alpha" is already the id of ${join(sub, "a.yaml")}`,
    ]);
    expect(errors.every((e) => e instanceof WorkloadSpecError)).toBe(true);
  });

  test("loadWorkloadDir: a missing folder is an error, not a throw", async () => {
    const r = await loadWorkloadDir(join(dir, "missing"), {});
    expect(r.workloads).toEqual([]);
    expect(r.errors.map((e) => e.message)).toEqual([`${join(dir, "missing")}: no such directory`]);
  });

  test("rejectDuplicateIds lets the previous owner keep its id", () => {
    const w = (id: string, file: string) => ({ id, file }) as Parameters<typeof rejectDuplicateIds>[0][number];
    const r = rejectDuplicateIds([w("x", "a.yaml"), w("x", "b.yaml")], new Map([["x", "b.yaml"]]));
    expect(r.workloads.map((s) => s.file)).toEqual(["b.yaml"]);
    expect(r.errors.map((e) => e.message)).toEqual(['a.yaml: id: "x" is already the id of b.yaml']);
  });
});

describe("keys that are names of Object's own members", () => {
  const base = "id: echo\nimage: busybox\n";

  test("__proto__ is reported as an unknown field, not merged into the file", () => {
    expect(errors(`${base}__proto__: {pool: {min_size: 1}}\n`)).toEqual([
      "workloads/t.yaml: __proto__: unknown field (known: id, name, image, volumes, environment, command, healthcheck, deploy, read_only, user, network_mode, ports, pool, sync)",
    ]);
  });

  test("constructor, toString and the like are unknown fields like any other", () => {
    expect(errors(`${base}healthcheck:\n  toString: 1\n`)).toEqual(["workloads/t.yaml: healthcheck.toString: unknown field (known: test, interval, timeout, start_period, retries, disable)"]);
    expect(errors(`${base}constructor: 1\n`)[0]).toEndWith("constructor: unknown field (known: id, name, image, volumes, environment, command, healthcheck, deploy, read_only, user, network_mode, ports, pool, sync)");
  });

  test("they are plain environment variable names", () => {
    expect(ok(`${base}environment:\n  constructor: a\n  __proto__: b\n`).environment).toEqual(Object.fromEntries([["constructor", "a"], ["__proto__", "b"]]));
    expect(ok(`${base}environment: [constructor=a]\n`).environment).toEqual({ constructor: "a" });
  });
});

test("a problem never quotes a value taken from Kiln's environment", () => {
  const env = { S3_SECRET: "very-secret-value" };
  const messages = parseWorkload("id: echo\nimage: busybox\nenvironment:\n  - ${S3_SECRET}\n", FILE, env);
  expect(messages.ok).toBe(false);
  const text = messages.ok ? "" : messages.errors.map((e) => `${e.message} ${e.hint ?? ""}`).join("\n");
  expect(text).not.toContain("very-secret-value");
  expect(text).toContain("<value of S3_SECRET>");
});
