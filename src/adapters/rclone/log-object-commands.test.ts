import { describe, expect, test } from "bun:test";
import { Secret } from "../../core/secret.ts";
import { deleteCommand, downloadCommand, ensureBucketCommand, objectRemote, purgeCommand, targetUrl, uploadCommand } from "./log-object-commands.ts";

const target = {
  bucket: "kiln-logs",
  prefix: "prod/eu",
  endpoint: "http://127.0.0.1:9000",
  accessKeyId: new Secret("AKIDEXAMPLE"),
  secretAccessKey: new Secret("wJalrXUtnFEMI-example-secret"),
};
const setup = { target, bin: "rclone", inheritedEnvKeys: ["PATH", "RCLONE_CONFIG_PASS"] };

describe("log offload commands", () => {
  test("argv names the object; the remote and its keys live only in env, as secrets", () => {
    const up = uploadCommand(setup, "/data/log-offload/segment-x.tmp", "k7x2/000000000001-000000000256.kseg");
    expect(up.argv.slice(0, 5)).toEqual(["rclone", "copyto", "/data/log-offload/segment-x.tmp", "kilns3:kiln-logs/prod/eu/k7x2/000000000001-000000000256.kseg", "--s3-no-check-bucket"]);
    expect(up.env).toMatchObject({ RCLONE_CONFIG: "/dev/null", RCLONE_CONFIG_KILNS3_TYPE: "s3", RCLONE_CONFIG_KILNS3_ENDPOINT: "http://127.0.0.1:9000", RCLONE_CONFIG_KILNS3_FORCE_PATH_STYLE: "true" });
    expect(up.env!.RCLONE_CONFIG_KILNS3_SECRET_ACCESS_KEY).toBe(target.secretAccessKey);
    expect(up.env!.RCLONE_CONFIG_KILNS3_SECRET_ACCESS_KEY).toBeInstanceOf(Secret);
    expect(up.unsetEnv).toEqual(["AWS_CA_BUNDLE", "RCLONE_CONFIG_PASS"]);
    for (const cmd of [up, downloadCommand(setup, "a/1-2.kseg", "/tmp/x"), deleteCommand(setup, "a/1-2.kseg"), purgeCommand(setup, "a"), ensureBucketCommand(setup)]) {
      const argv = cmd.argv.join(" ");
      expect(argv).not.toContain("wJalrXUtnFEMI");
      expect(argv).not.toContain("AKIDEXAMPLE");
      expect(JSON.stringify(cmd)).not.toContain("wJalrXUtnFEMI");
    }
    expect(downloadCommand(setup, "a/1-2.kseg", "/tmp/x").argv.slice(1, 4)).toEqual(["copyto", "kilns3:kiln-logs/prod/eu/a/1-2.kseg", "/tmp/x"]);
    expect(deleteCommand(setup, "a/1-2.kseg").argv.slice(1, 3)).toEqual(["delete", "kilns3:kiln-logs/prod/eu/a/1-2.kseg"]);
    expect(purgeCommand(setup, "a").argv.slice(1, 3)).toEqual(["purge", "kilns3:kiln-logs/prod/eu/a"]);
    expect(ensureBucketCommand(setup).argv.slice(1, 3)).toEqual(["mkdir", "kilns3:kiln-logs"]);
  });

  test("keys never climb out of the prefix; the URL is for messages", () => {
    expect(() => objectRemote(target, "../other/x")).toThrow("not a plain relative key");
    expect(() => objectRemote(target, "/abs")).toThrow("not a plain relative key");
    expect(() => objectRemote(target, "a/./b")).toThrow("not a plain relative key");
    expect(objectRemote({ ...target, prefix: "" }, "a/b.kseg")).toBe("kilns3:kiln-logs/a/b.kseg");
    expect(targetUrl(target)).toBe("s3://kiln-logs/prod/eu");
  });
});
