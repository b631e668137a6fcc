import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { childEnvOf, loadCliEnv, loadConfig } from "./config.ts";

const HOST_ENV = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
  TZ: "UTC",
  SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
  NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt",
  AWS_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt",
  AWS_ACCESS_KEY_ID: "AKIA-host",
  AWS_SECRET_ACCESS_KEY: "host-secret",
  KILN_API_TOKEN: "a-very-secret-api-token",
  KILN_DATA_DIR: "/var/lib/kiln",
  RCLONE_DRY_RUN: "true",
  GIT_DIR: "/elsewhere/.git",
  TMPDIR: "",
};

test("children get only the allow-listed variables that are set", () => {
  expect(childEnvOf(HOST_ENV)).toEqual({
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: "/root",
    LANG: "C.UTF-8",
    TZ: "UTC",
    SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
    NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt",
  });
});

test("never a KILN_ setting nor any AWS_ variable (AWS_CA_BUNDLE breaks rclone's S3 backend)", () => {
  const keys = Object.keys(childEnvOf(HOST_ENV));
  expect(keys.filter((k) => k.startsWith("KILN_") || k.startsWith("AWS_") || k.startsWith("RCLONE_"))).toEqual([]);
});

test("KILN_SECRET_KEY is read into config.secretKey and never reaches a child's environment", () => {
  const key = "q0jK4vH1d8m3Yl7Zx2Wc9Rb6Tn5Up0Ao1Se4Df7Gh8I=";
  const config = loadConfig({ ...HOST_ENV, KILN_SECRET_KEY: key });
  expect(config.secretKey).toBe(key);
  expect(Object.keys(config.childEnv)).not.toContain("KILN_SECRET_KEY");
  expect(Object.values(config.childEnv)).not.toContain(key);
  expect(loadConfig({ KILN_SECRET_KEY: "" }).secretKey).toBeUndefined();
});

test("a child always has a PATH", () => {
  expect(childEnvOf({}).PATH).toBe("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
});

test("loadConfig computes childEnv from the environment it is given, and reads BUILDKIT_HOST", () => {
  const config = loadConfig({ ...HOST_ENV, BUILDKIT_HOST: "tcp://127.0.0.1:1234" });
  expect(config.childEnv).toEqual(childEnvOf(HOST_ENV));
  expect(config.buildkitHost).toBe("tcp://127.0.0.1:1234");
  expect(loadConfig({ BUILDKIT_HOST: "" }).buildkitHost).toBeUndefined();
});

test("loadCliEnv: KILN_URL, KILN_TOKEN, the local Kiln's data dir and address, NO_COLOR; empty is unset", () => {
  expect(loadCliEnv({ KILN_URL: "http://k:1", KILN_TOKEN: "t", KILN_DATA_DIR: "/srv/kiln", KILN_API_HOST: "::", KILN_API_PORT: "4100", NO_COLOR: "" })).toEqual({
    url: "http://k:1",
    token: "t",
    dataDir: "/srv/kiln",
    apiHost: "::",
    apiPort: "4100",
    noColor: true,
  });
  expect(loadCliEnv({ KILN_URL: "", KILN_TOKEN: "" })).toEqual({
    url: undefined,
    token: undefined,
    dataDir: resolve("./.kiln"),
    apiHost: "127.0.0.1",
    apiPort: "4000",
    noColor: false,
  });
});

test("the API and Caddy's admin API stay on loopback unless KILN_ALLOW_NON_LOOPBACK=1", () => {
  const refused = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
  expect(refused({ KILN_API_HOST: "0.0.0.0" })).toBe(
    "invalid configuration: KILN_API_HOST: 0.0.0.0 is not a loopback address, and Kiln's API there is reachable from every container through its network gateway",
  );
  expect(refused({ KILN_CADDY_ADMIN: "http://0.0.0.0:2019" })).toStartWith("invalid configuration: KILN_CADDY_ADMIN: 0.0.0.0 is not a loopback address");
  for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1"]) expect(refused({ KILN_API_HOST: host })).toBeNull();
  expect(refused({ KILN_CADDY_ADMIN: "http://[::1]:2019" })).toBeNull();
  expect(loadConfig({ KILN_API_HOST: "0.0.0.0", KILN_ALLOW_NON_LOOPBACK: "1" }).api.host).toBe("0.0.0.0");
});

test("workload files may interpolate the environment, but never Kiln's own secrets", () => {
  const c = loadConfig({ KILN_API_TOKEN: "t".repeat(32), KILN_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"), S3_SECRET: "s3-value", KILN_PUBLIC_PORT: "8080" });
  expect(c.workloadEnv.S3_SECRET).toBe("s3-value");
  expect(c.workloadEnv.KILN_PUBLIC_PORT).toBe("8080");
  expect("KILN_API_TOKEN" in c.workloadEnv).toBe(false);
  expect("KILN_SECRET_KEY" in c.workloadEnv).toBe(false);
});

test("KILN_METRICS_ADDR: host:port or [v6]:port on loopback, not the API's own address", () => {
  const refused = (value: string, extra: Record<string, string> = {}) => {
    try {
      loadConfig({ KILN_METRICS_ADDR: value, ...extra });
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
  expect(loadConfig({}).metricsAddr).toBeNull();
  expect(loadConfig({ KILN_METRICS_ADDR: "127.0.0.1:9464" }).metricsAddr).toEqual({ host: "127.0.0.1", port: 9464 });
  expect(loadConfig({ KILN_METRICS_ADDR: "[::1]:9464" }).metricsAddr).toEqual({ host: "::1", port: 9464 });
  expect(loadConfig({ KILN_METRICS_ADDR: "localhost:9464" }).metricsAddr).toEqual({ host: "localhost", port: 9464 });
  expect(refused("9464")).toBe("invalid configuration: KILN_METRICS_ADDR: host:port, e.g. 127.0.0.1:9464");
  expect(refused("http://127.0.0.1:9464")).toBe("invalid configuration: KILN_METRICS_ADDR: host:port, e.g. 127.0.0.1:9464");
  expect(refused("127.0.0.1:0")).toBe("invalid configuration: KILN_METRICS_ADDR: port 0 is not 1 to 65535");
  expect(refused("127.0.0.1:4000")).toBe("invalid configuration: KILN_METRICS_ADDR: 127.0.0.1:4000 is the API's own address");
  expect(refused("0.0.0.0:9464")).toStartWith("invalid configuration: KILN_METRICS_ADDR: 0.0.0.0 is not a loopback address");
  expect(loadConfig({ KILN_METRICS_ADDR: "0.0.0.0:9464", KILN_ALLOW_NON_LOOPBACK: "1" }).metricsAddr).toEqual({ host: "0.0.0.0", port: 9464 });
});

test("log retention: 30 days and 1024 MiB per stream by default; KILN_LOG_RETENTION_DAYS / _MB set them", () => {
  expect(loadConfig({}).logRetention).toEqual({ maxAgeMs: 30 * 86_400_000, maxBytes: 1024 * 1024 * 1024 });
  expect(loadConfig({ KILN_LOG_RETENTION_DAYS: "7", KILN_LOG_RETENTION_MB: "50" }).logRetention).toEqual({ maxAgeMs: 7 * 86_400_000, maxBytes: 50 * 1024 * 1024 });
  expect(() => loadConfig({ KILN_LOG_RETENTION_DAYS: "0" })).toThrow("KILN_LOG_RETENTION_DAYS");
});

test("log offload: off unless KILN_LOG_OFFLOAD_URL is set; its settings are parsed, keys kept as secrets", () => {
  expect(loadConfig({}).logOffload).toBeNull();
  const c = loadConfig({
    KILN_LOG_OFFLOAD_URL: "s3://kiln-logs/prod/eu/",
    KILN_LOG_OFFLOAD_ENDPOINT: "http://127.0.0.1:9000/",
    KILN_LOG_OFFLOAD_ACCESS_KEY_ID: "AKIDEXAMPLE",
    KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY: "wJalrXUtnFEMI-example",
    KILN_LOG_OFFLOAD_AFTER_HOURS: "0.5",
  }).logOffload!;
  expect(c.target).toMatchObject({ bucket: "kiln-logs", prefix: "prod/eu", endpoint: "http://127.0.0.1:9000" });
  expect(c.target.secretAccessKey?.reveal()).toBe("wJalrXUtnFEMI-example");
  expect(JSON.stringify(c)).not.toContain("wJalrXUtnFEMI-example");
  expect(c.afterMs).toBe(1_800_000);
  expect(c.intervalMs).toBe(600_000);
  expect(loadConfig({ KILN_LOG_OFFLOAD_URL: "s3://kiln-logs" }).logOffload).toMatchObject({ target: { bucket: "kiln-logs", prefix: "" }, afterMs: 86_400_000 });
  expect(loadConfig({ KILN_LOG_OFFLOAD_URL: "s3://kiln-logs", KILN_LOG_OFFLOAD_ACCESS_KEY_ID: "AKID", KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY: "x" }).workloadEnv).not.toHaveProperty("KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY");
});

test("log offload: each bad value is a startup error naming the variable", () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ KILN_LOG_OFFLOAD_URL: "https://kiln-logs/prod" }, "KILN_LOG_OFFLOAD_URL: \"https://kiln-logs/prod\" is not s3://bucket"],
    [{ KILN_LOG_OFFLOAD_URL: "s3://Kiln_Logs" }, "bucket \"Kiln_Logs\" is not a valid bucket name"],
    [{ KILN_LOG_OFFLOAD_URL: "s3://kiln-logs/a/../b" }, "may hold only letters"],
    [{ KILN_LOG_OFFLOAD_URL: "s3://kiln-logs", KILN_LOG_OFFLOAD_ACCESS_KEY_ID: "AKID" }, "KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY is missing"],
    [{ KILN_LOG_OFFLOAD_ENDPOINT: "http://127.0.0.1:9000" }, "KILN_LOG_OFFLOAD_ENDPOINT is set but KILN_LOG_OFFLOAD_URL is not"],
    [{ KILN_LOG_OFFLOAD_URL: "s3://kiln-logs", KILN_LOG_OFFLOAD_ENDPOINT: "not a url" }, "KILN_LOG_OFFLOAD_ENDPOINT must be a URL"],
    [{ KILN_LOG_OFFLOAD_URL: "s3://kiln-logs", KILN_LOG_OFFLOAD_AFTER_HOURS: "-1" }, "KILN_LOG_OFFLOAD_AFTER_HOURS"],
    [{ KILN_LOG_OFFLOAD_URL: "s3://kiln-logs", KILN_LOG_OFFLOAD_INTERVAL_MIN: "0" }, "KILN_LOG_OFFLOAD_INTERVAL_MIN"],
  ];
  for (const [env, message] of cases) expect(() => loadConfig(env)).toThrow(message);
});

test("KILN_DATABASE_URL: postgres:// or postgresql:// selects Postgres, kept as a secret; unset is SQLite", () => {
  expect(loadConfig({}).databaseUrl).toBeNull();
  for (const url of ["postgres://kiln:pw-123456@127.0.0.1:5432/kiln", "postgresql://kiln:pw-123456@db.internal/kiln?sslmode=require"]) {
    const c = loadConfig({ KILN_DATABASE_URL: url });
    expect(c.databaseUrl?.reveal()).toBe(url);
    expect(JSON.stringify(c)).not.toContain("pw-123456");
    expect(c.workloadEnv).not.toHaveProperty("KILN_DATABASE_URL");
    expect(c.childEnv).not.toHaveProperty("KILN_DATABASE_URL");
  }
});

test("KILN_DATABASE_URL: anything else is a startup error naming the variable, never echoing the value", () => {
  for (const url of ["mysql://kiln:pw-123456@127.0.0.1/kiln", "sqlite:///var/lib/kiln.db", "kiln:pw-123456@127.0.0.1", "postgres://"]) {
    let message = "";
    try {
      loadConfig({ KILN_DATABASE_URL: url });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("KILN_DATABASE_URL");
    expect(message).toContain("postgres://");
    expect(message).not.toContain("pw-123456");
  }
});

test("KILN_POOLS_DIR defaults to the data dir; KILN_ADVERTISE_URL defaults to the API's own address, and is checked", () => {
  const base = loadConfig({ KILN_DATA_DIR: "/var/lib/kiln", KILN_API_PORT: "4100" });
  expect(base.pools.dir).toBe("/var/lib/kiln");
  expect(base.advertiseUrl).toBe("http://127.0.0.1:4100");
  expect(loadConfig({ KILN_POOLS_DIR: "/srv/pools" }).pools.dir).toBe("/srv/pools");
  expect(loadConfig({ KILN_API_HOST: "0.0.0.0", KILN_API_PORT: "4001", KILN_ALLOW_NON_LOOPBACK: "1" }).advertiseUrl).toBe("http://127.0.0.1:4001");
  expect(loadConfig({ KILN_ADVERTISE_URL: "http://10.0.0.5:4000/" }).advertiseUrl).toBe("http://10.0.0.5:4000");
  expect(() => loadConfig({ KILN_ADVERTISE_URL: "http://10.0.0.5:4000/api/v1" })).toThrow("KILN_ADVERTISE_URL");
  expect(() => loadConfig({ KILN_ADVERTISE_URL: "10.0.0.5:4000" })).toThrow("no path");
});
