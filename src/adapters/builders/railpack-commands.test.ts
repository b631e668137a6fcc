import { describe, expect, test } from "bun:test";
import { StepError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import { buildctlCommand, checkSecretNames, DEFAULT_FRONTEND, prepareCommand, probeCommand, railpackPaths, secretsHash } from "./railpack-commands.ts";

const paths = railpackPaths("/tmp/w");
const SECRET_VALUES = ["sk_live_abcdef123", "hunter2-password"];
const secrets = () => ({ STRIPE_KEY: new Secret(SECRET_VALUES[0]!), DB_PASSWORD: new Secret(SECRET_VALUES[1]!) });

function expectNoSecretValues(argv: string[]) {
  const joined = argv.join(" ");
  for (const v of SECRET_VALUES) expect(joined).not.toContain(v);
}

test("railpackPaths", () => {
  expect(paths).toEqual({ workDir: "/tmp/w", plan: "/tmp/w/railpack-plan.json", info: "/tmp/w/railpack-info.json", imageTar: "/tmp/w/image.tar" });
});

describe("prepareCommand", () => {
  test("argv without secrets", () => {
    expect(prepareCommand({ srcDir: "/src", paths, secrets: {} })).toEqual({
      argv: ["railpack", "prepare", "/src", "--plan-out", "/tmp/w/railpack-plan.json", "--info-out", "/tmp/w/railpack-info.json"],
      env: {},
    });
  });

  test("secrets: bare --env NAME in argv (sorted), values only in env as Secrets", () => {
    const s = secrets();
    const cmd = prepareCommand({ bin: "/opt/railpack", srcDir: "/src", paths, secrets: s });
    expect(cmd.argv[0]).toBe("/opt/railpack");
    expect(cmd.argv.slice(-4)).toEqual(["--env", "DB_PASSWORD", "--env", "STRIPE_KEY"]);
    expectNoSecretValues(cmd.argv);
    expect(cmd.env?.STRIPE_KEY).toBe(s.STRIPE_KEY);
    expect(cmd.env?.DB_PASSWORD).toBeInstanceOf(Secret);
  });
});

describe("buildctlCommand", () => {
  const base = { addr: "tcp://127.0.0.1:1234", srcDir: "/src", paths, cacheKey: "dep123", imageName: "kiln/railpack-load:b1" };

  test("the documented frontend build, per-app cache key, docker tarball output", () => {
    expect(buildctlCommand({ ...base, secrets: {} }).argv).toEqual([
      "buildctl",
      "--addr",
      "tcp://127.0.0.1:1234",
      "build",
      "--progress=plain",
      "--frontend=gateway.v0",
      "--opt",
      `source=${DEFAULT_FRONTEND}`,
      "--opt",
      "filename=railpack-plan.json",
      "--local",
      "context=/src",
      "--local",
      "dockerfile=/tmp/w",
      "--opt",
      "build-arg:cache-key=dep123",
      "--output",
      "type=docker,name=kiln/railpack-load:b1,dest=/tmp/w/image.tar",
    ]);
  });

  test("secrets: --secret id=NAME,env=NAME and a secrets-hash; values only in env", () => {
    const s = secrets();
    const hash = secretsHash(s, "dep123")!;
    const cmd = buildctlCommand({ ...base, secrets: s, secretsHash: hash, frontend: "ghcr.io/railwayapp/railpack-frontend:v0.9.0" });
    expect(cmd.argv).toContain("source=ghcr.io/railwayapp/railpack-frontend:v0.9.0");
    expect(cmd.argv).toContain(`build-arg:secrets-hash=${hash}`);
    const secretArgs = cmd.argv.flatMap((a, i) => (cmd.argv[i - 1] === "--secret" ? [a] : []));
    expect(secretArgs).toEqual(["id=DB_PASSWORD,env=DB_PASSWORD", "id=STRIPE_KEY,env=STRIPE_KEY"]);
    expectNoSecretValues(cmd.argv);
    expect(cmd.env?.STRIPE_KEY).toBe(s.STRIPE_KEY);
  });

  test("a secret name that could break the argv is refused", () => {
    expect(() => buildctlCommand({ ...base, secrets: { "A,env=PATH": new Secret("x") } })).toThrow(StepError);
    expect(() => prepareCommand({ srcDir: "/s", paths, secrets: { "1X": new Secret("x") } })).toThrow(StepError);
  });
});

test("checkSecretNames sorts and accepts env-var names", () => {
  expect(checkSecretNames({ b_2: new Secret("1"), A: new Secret("2") })).toEqual(["A", "b_2"]);
});

test("checkSecretNames refuses names the API forbids (a deployment stored before the deny-list)", () => {
  expect(() => checkSecretNames({ LD_PRELOAD: new Secret("/tmp/x.so") })).toThrow("env LD_PRELOAD is not allowed");
  expect(() => prepareCommand({ srcDir: "/s", paths, secrets: { https_proxy: new Secret("http://evil") } })).toThrow("env https_proxy is not allowed");
});

test("probeCommand", () => {
  expect(probeCommand("unix:///run/buildkit/buildkitd.sock")).toEqual({
    argv: ["buildctl", "--addr", "unix:///run/buildkit/buildkitd.sock", "debug", "workers"],
  });
});

describe("secretsHash", () => {
  test("none without secrets; deterministic; changes with any value, name or salt; never the value", () => {
    expect(secretsHash({}, "d")).toBeUndefined();
    const h = secretsHash(secrets(), "d")!;
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(secretsHash(secrets(), "d")).toBe(h);
    expect(secretsHash({ ...secrets(), STRIPE_KEY: new Secret("other") }, "d")).not.toBe(h);
    expect(secretsHash({ STRIPE_KEY: new Secret(SECRET_VALUES[0]!) }, "d")).not.toBe(h);
    expect(secretsHash(secrets(), "e")).not.toBe(h);
    for (const v of SECRET_VALUES) expect(h).not.toContain(v);
  });
});
