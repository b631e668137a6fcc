import { describe, expect, test } from "bun:test";
import { Secret } from "../../core/secret.ts";
import { ProblemList } from "./errors.ts";
import { WorkloadFileSchema } from "./schema.ts";
import { WORKLOAD_DEFAULTS, toWorkload } from "./to-workload.ts";

const FILE = "workloads/t.yaml";

function build(fields: Record<string, unknown>) {
  const problems = new ProblemList(FILE);
  const spec = toWorkload(WorkloadFileSchema.parse({ id: "t", image: "img:1", ...fields }), FILE, "h123", problems);
  return { spec, errors: problems.errors.map((e) => e.message) };
}
const spec = (fields: Record<string, unknown> = {}) => {
  const r = build(fields);
  expect(r.errors).toEqual([]);
  return r.spec;
};
const errors = (fields: Record<string, unknown>) => build(fields).errors;

test("a minimal file gets every default", () => {
  expect(spec()).toEqual({
    id: "t",
    name: "t",
    image: "img:1",
    state: null,
    secrets: null,
    environment: {},
    command: null,
    healthcheck: null,
    limits: { nanoCpus: null, memoryBytes: null },
    readOnly: true,
    user: null,
    networkMode: null,
    port: null,
    pool: { minSize: 1, maxSize: 10, idleTimeoutMs: 600_000 },
    sync: null,
    file: FILE,
    hash: "h123",
  });
});

test("every field maps to the spec", () => {
  const w = spec({
    name: "My Worker",
    volumes: { state: { target: "/data" }, secrets: { target: "/secrets", read_only: true } },
    environment: { A: "1" },
    command: ["node", "x.js"],
    healthcheck: { test: ["CMD", "true"], interval: "1s", timeout: "2s", retries: 4, start_period: "3s" },
    deploy: { resources: { limits: { cpus: "0.5", memory: "1G" } } },
    read_only: false,
    user: "1000:1000",
    ports: [8080, 9090],
    pool: { min_size: 2, max_size: 5, idle_timeout: "1h" },
  });
  expect(w).toMatchObject({
    name: "My Worker",
    state: { target: "/data" },
    secrets: { target: "/secrets", readOnly: true },
    environment: { A: "1" },
    command: ["node", "x.js"],
    healthcheck: { test: ["CMD", "true"], intervalMs: 1000, timeoutMs: 2000, retries: 4, startPeriodMs: 3000 },
    limits: { nanoCpus: 5e8, memoryBytes: 1024 ** 3 },
    readOnly: false,
    user: "1000:1000",
    networkMode: null, // Kiln's own network; "none" is the only other choice (and serves no port)
    port: 8080,
    pool: { minSize: 2, maxSize: 5, idleTimeoutMs: 3_600_000 },
  });
});

describe("healthcheck", () => {
  test("Docker's defaults: 30s, 30s, 0s, 3 retries", () => {
    expect(spec({ healthcheck: { test: "true" } }).healthcheck).toEqual({ test: ["CMD-SHELL", "true"], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 });
  });
  test("disable: true or test: [NONE] → null", () => {
    expect(spec({ healthcheck: { disable: true, test: "true" } }).healthcheck).toBeNull();
    expect(spec({ healthcheck: { disable: true } }).healthcheck).toBeNull();
    expect(spec({ healthcheck: { test: ["NONE"] } }).healthcheck).toBeNull();
  });
  test("a test is required otherwise", () => {
    expect(errors({ healthcheck: { interval: "5s" } })).toEqual([`${FILE}: healthcheck.test: is required (or set disable: true)`]);
  });
});

describe("volumes", () => {
  test("secrets default to read-only; read_only: false is refused", () => {
    expect(spec({ volumes: { secrets: { target: "/s" } } }).secrets).toEqual({ target: "/s", readOnly: true });
    expect(errors({ volumes: { secrets: { target: "/s", read_only: false } } })).toEqual([
      `${FILE}: volumes.secrets.read_only: secrets are always mounted read-only: remove read_only or set it to true`,
    ]);
  });
  test("state and secrets must be apart", () => {
    expect(errors({ volumes: { state: { target: "/data" }, secrets: { target: "/data/secrets" } } })).toEqual([
      `${FILE}: volumes.secrets.target: must be apart from volumes.state.target (/data): neither may be inside the other`,
    ]);
    expect(errors({ volumes: { state: { target: "/x" }, secrets: { target: "/x" } } })).toHaveLength(1);
    expect(spec({ volumes: { state: { target: "/data" }, secrets: { target: "/database" } } }).secrets?.target).toBe("/database");
  });
});

describe("ports", () => {
  test("the first port is the endpoint", () => {
    expect(spec({ ports: ["9000/tcp", "53/udp"] }).port).toBe(9000);
    expect(spec({ ports: [] }).port).toBeNull();
  });
  test("the first must be tcp", () => {
    expect(errors({ ports: ["53/udp"] })).toEqual([`${FILE}: ports[0].protocol: must be tcp: a tenant's endpoint is routed to the first port over TCP`]);
  });
  test("network_mode none can't serve a port", () => {
    expect(errors({ ports: [80], network_mode: "none" })).toEqual([`${FILE}: network_mode: is "none", so ports cannot be reached: remove network_mode or ports`]);
  });
});

describe("pool", () => {
  test("max_size must be ≥ min_size", () => {
    expect(errors({ pool: { min_size: 2, max_size: 1 } })).toEqual([`${FILE}: pool.max_size: must be ≥ pool.min_size (2)`]);
  });
  test("against the default max_size, the error is on min_size", () => {
    expect(errors({ pool: { min_size: 20 } })).toEqual([`${FILE}: pool.min_size: must be ≤ pool.max_size (10, the default): set pool.max_size too`]);
  });
  test("min_size 0 is allowed (cold starts only)", () => {
    expect(spec({ pool: { min_size: 0 } }).pool.minSize).toBe(0);
  });
});

describe("sync", () => {
  const state = { volumes: { state: { target: "/state" } } };
  const sink = { type: "s3", bucket: "b-1" };

  test("defaults", () => {
    expect(spec({ ...state, sync: { sink } }).sync).toEqual({
      sink: { type: "s3", bucket: "b-1", prefix: "tenants/${tenantId}/", rcloneFlags: [] },
      mappings: [{ path: "/", direction: "bidirectional", mode: "sync" }],
      policy: { onClaim: true, onRelease: true, manual: true, periodicMs: null },
      timeoutMs: 300_000,
    });
    expect(WORKLOAD_DEFAULTS.sync.prefix).toBe("tenants/${tenantId}/");
  });

  test("everything set", () => {
    const s = spec({
      ...state,
      sync: {
        sink: { ...sink, region: "eu-west-1", endpoint: "https://s3.example.com", access_key_id: "AK", secret_access_key: "SK", prefix: "x/${tenantId}", rclone_flags: ["--fast-list"] },
        mappings: [{ path: "cache", direction: "upload", mode: "copy" }, { path: "creds" }],
        policy: { on_claim: false, on_release: false, manual: false, periodic: "5m" },
        timeout: "45s",
      },
    }).sync!;
    expect(s.timeoutMs).toBe(45_000);
    expect(s.sink).toMatchObject({ region: "eu-west-1", endpoint: "https://s3.example.com", prefix: "x/${tenantId}", rcloneFlags: ["--fast-list"] });
    expect(s.sink.accessKeyId).toBeInstanceOf(Secret);
    expect(s.sink.secretAccessKey?.reveal()).toBe("SK");
    expect(JSON.stringify(s)).not.toContain("SK\"");
    expect(s.mappings).toEqual([
      { path: "cache", direction: "upload", mode: "copy" },
      { path: "creds", direction: "bidirectional", mode: "sync" },
    ]);
    expect(s.policy).toEqual({ onClaim: false, onRelease: false, manual: false, periodicMs: 300_000 });
  });

  test("problems across fields", () => {
    expect(errors({ sync: { sink } })).toEqual([`${FILE}: sync: needs volumes.state: sync copies the state volume`]);
    expect(errors({ ...state, sync: { sink: { ...sink, access_key_id: "AK" } } })).toEqual([
      `${FILE}: sync.sink.secret_access_key: is required with the other key: set both access_key_id and secret_access_key, or neither`,
    ]);
    expect(errors({ ...state, sync: { sink, mappings: [] } })).toEqual([`${FILE}: sync.mappings: must not be empty (leave it out to sync the whole state volume)`]);
    expect(errors({ ...state, sync: { sink, mappings: [{ path: "a" }, { path: "a/" }] } })).toEqual([`${FILE}: sync.mappings[1].path: repeats sync.mappings[0].path (a)`]);
  });
});

test("all cross-field problems of a file are reported together", () => {
  expect(errors({ pool: { min_size: 3, max_size: 2 }, ports: ["53/udp"], volumes: { secrets: { target: "/s", read_only: false } } })).toHaveLength(3);
});
