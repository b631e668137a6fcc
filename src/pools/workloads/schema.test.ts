import { describe, expect, test } from "bun:test";
import { Secret } from "../../core/secret.ts";
import { formatFieldPath } from "./errors.ts";
import { TOP_LEVEL_FIELDS, WorkloadFileSchema, issueProblems } from "./schema.ts";

const base = { id: "t", image: "img:1" };

/** "field: message" for each problem with `fields` added to a minimal valid file. */
function problems(fields: Record<string, unknown>): string[] {
  const r = WorkloadFileSchema.safeParse({ ...base, ...fields });
  if (r.success) return [];
  return r.error.issues.flatMap(issueProblems).map((p) => `${formatFieldPath(p.path)}: ${p.message}`);
}
const parse = (fields: Record<string, unknown>) => WorkloadFileSchema.parse({ ...base, ...fields });

test("a minimal file is valid", () => {
  expect(problems({})).toEqual([]);
});

describe("unknown fields", () => {
  test("a typo gets a suggestion, at its own path", () => {
    expect(problems({ imgae: "x" })).toEqual(['imgae: unknown field: did you mean "image"?']);
    expect(problems({ pool: { max_sise: 3 } })).toEqual(['pool.max_sise: unknown field: did you mean "max_size"?']);
    expect(problems({ readOnly: true })).toEqual(['readOnly: unknown field: did you mean "read_only"?']);
    expect(problems({ healthcheck: { test: "true", intervall: "1s" } })).toEqual(['healthcheck.intervall: unknown field: did you mean "interval"?']);
  });

  test("several unknown fields are each reported", () => {
    expect(problems({ foo: 1, volumez: {} })).toEqual([
      `foo: unknown field (known: ${TOP_LEVEL_FIELDS.join(", ")})`,
      'volumez: unknown field: did you mean "volumes"?',
    ]);
  });

  test("Compose habits say where Kiln wants them", () => {
    expect(problems({ mem_limit: "1G" })).toEqual(["mem_limit: unknown field: set deploy.resources.limits.memory"]);
    expect(problems({ privileged: true })).toEqual(["privileged: unknown field: not supported: pool members never run privileged"]);
    expect(problems({ ports: [{ target: 80 }] })).toEqual(["ports[0].container: is required"]);
    expect(problems({ ports: [{ container: 80, published: 80 }] })).toEqual(["ports[0].published: unknown field: not supported: Kiln chooses the host port"]);
  });
});

describe("id, name, image", () => {
  test("id is a required DNS label", () => {
    expect(problems({ id: undefined })).toEqual(["id: is required"]);
    expect(problems({ id: "My_Worker" })[0]).toStartWith("id: must be a DNS label: 1–40 lowercase letters");
    expect(problems({ id: "a".repeat(41) })[0]).toStartWith("id: must be a DNS label");
    expect(problems({ id: 12 })).toEqual(["id: must be a string (put it in quotes)"]);
    expect(problems({ id: "a".repeat(40) })).toEqual([]);
  });

  test("name is optional text", () => {
    expect(parse({ name: "My Worker" }).name).toBe("My Worker");
    expect(problems({ name: "" })).toEqual(["name: must not be empty"]);
  });

  test("image: a reference or deployment:<name>", () => {
    expect(parse({ image: "deployment:hello" }).image).toBe("deployment:hello");
    expect(parse({ image: "registry.local:5000/a/b@sha256:abc" }).image).toBe("registry.local:5000/a/b@sha256:abc");
    expect(problems({ image: undefined })).toEqual(["image: is required"]);
    expect(problems({ image: "a b" })).toEqual(["image: must not contain spaces"]);
    expect(problems({ image: "deployment:Bad_Name" })[0]).toStartWith("image: deployment:<name> needs a deployment name");
  });
});

describe("volumes", () => {
  test("targets are absolute plain paths", () => {
    expect(parse({ volumes: { state: { target: "/data" }, secrets: { target: "/secrets", read_only: true } } }).volumes).toEqual({
      state: { target: "/data" },
      secrets: { target: "/secrets", read_only: true },
    });
    expect(problems({ volumes: { state: { target: "data" } } })).toEqual(['volumes.state.target: must be an absolute path in the container, like "/state"']);
    expect(problems({ volumes: { state: { target: "/" } } })).toEqual(["volumes.state.target: must not be the container's root"]);
    expect(problems({ volumes: { state: { target: "/a/../etc" } } })[0]).toStartWith("volumes.state.target: must be a plain absolute path");
    expect(problems({ volumes: { state: { target: "/proc/x" } } })).toEqual(["volumes.state.target: must not be under /proc, /sys or /dev"]);
    expect(problems({ volumes: { secrets: { target: "/tmp" } } })[0]).toStartWith("volumes.secrets.target: is where Kiln mounts a tmpfs");
    expect(problems({ volumes: { state: {} } })).toEqual(["volumes.state.target: is required"]);
    expect(problems({ volumes: { state: "/data" } })).toEqual(["volumes.state: must be a mapping (key: value lines), not a string"]);
  });
});

describe("environment", () => {
  test("a map: numbers and booleans become strings", () => {
    expect(parse({ environment: { A: "x", N: 3, F: 1.5, B: true, E: "" } }).environment).toEqual({ A: "x", N: "3", F: "1.5", B: "true", E: "" });
  });
  test("the Compose list form", () => {
    expect(parse({ environment: ["A=1", "B=x=y", "C="] }).environment).toEqual({ A: "1", B: "x=y", C: "" });
  });
  test("problems", () => {
    expect(problems({ environment: { "BAD-NAME": "x" } })).toEqual(["environment.BAD-NAME: must be a shell-style name (letters, digits, _; not starting with a digit)"]);
    expect(problems({ environment: { A: null } })).toEqual(['environment.A: needs a value (write "" for an empty one)']);
    expect(problems({ environment: { A: { b: 1 } } })).toEqual(["environment.A: must be a string, number or true/false, not a mapping"]);
    expect(problems({ environment: ["A=1", "A=2"] })).toEqual(["environment[1]: sets A twice"]);
    expect(problems({ environment: ["A"] })[0]).toStartWith("environment[0]: must be KEY=value");
    expect(problems({ environment: "A=1" })[0]).toStartWith("environment: must be a mapping (KEY: value) or a list");
  });
});

describe("command", () => {
  test("a list, or a string run by sh -c", () => {
    expect(parse({ command: ["node", "server.js", 8080] }).command).toEqual(["node", "server.js", "8080"]);
    expect(parse({ command: "echo hi && sleep 1" }).command).toEqual(["sh", "-c", "echo hi && sleep 1"]);
  });
  test("problems", () => {
    expect(problems({ command: [] })[0]).toStartWith("command: must not be an empty list");
    expect(problems({ command: ["a", { b: 1 }] })).toEqual(["command[1]: must be a string, not a mapping"]);
    expect(problems({ command: 5 })[0]).toStartWith("command: must be a list of arguments or a shell command string");
  });
});

describe("healthcheck", () => {
  test("test forms and durations", () => {
    const h = parse({ healthcheck: { test: ["CMD", "curl", "-f", "http://x/"], interval: "1s", timeout: "2s", start_period: "0", retries: 5 } }).healthcheck;
    expect(h).toEqual({ test: ["CMD", "curl", "-f", "http://x/"], interval: 1000, timeout: 2000, start_period: 0, retries: 5 });
    expect(parse({ healthcheck: { test: "curl -f localhost" } }).healthcheck?.test).toEqual(["CMD-SHELL", "curl -f localhost"]);
    expect(parse({ healthcheck: { test: ["CMD-SHELL", "true"] } }).healthcheck?.test).toEqual(["CMD-SHELL", "true"]);
    expect(parse({ healthcheck: { test: ["NONE"] } }).healthcheck?.test).toEqual(["NONE"]);
  });
  test("problems", () => {
    expect(problems({ healthcheck: { test: ["curl", "x"] } })[0]).toStartWith('healthcheck.test: must start with "CMD" or "CMD-SHELL"');
    expect(problems({ healthcheck: { test: ["CMD"] } })[0]).toStartWith('healthcheck.test: ["CMD", …] needs the program to run');
    expect(problems({ healthcheck: { test: "true", interval: 30 } })[0]).toStartWith("healthcheck.interval: must be a duration with a unit");
    expect(problems({ healthcheck: { test: "true", timeout: "0s" } })).toEqual(["healthcheck.timeout: must be at least 1ms"]);
    expect(problems({ healthcheck: { test: "true", retries: 0 } })).toEqual(["healthcheck.retries: must be from 1 to 100"]);
    expect(problems({ healthcheck: { test: "true", retries: "three" } })).toEqual(["healthcheck.retries: must be a whole number from 1 to 100"]);
    expect(problems({ healthcheck: { disable: "yes" } })).toEqual(["healthcheck.disable: must be true or false"]);
  });
});

describe("deploy.resources.limits", () => {
  test("cpus and memory", () => {
    expect(parse({ deploy: { resources: { limits: { cpus: "1.5", memory: "512M" } } } }).deploy?.resources?.limits).toEqual({ cpus: 1.5e9, memory: 512 * 1024 ** 2 });
    expect(parse({ deploy: { resources: { limits: { cpus: 2, memory: 2 ** 30 } } } }).deploy?.resources?.limits).toEqual({ cpus: 2e9, memory: 2 ** 30 });
  });
  test("problems", () => {
    expect(problems({ deploy: { resources: { limits: { cpus: "lots" } } } })[0]).toStartWith("deploy.resources.limits.cpus: must be a number of cores");
    expect(problems({ deploy: { resources: { limits: { memory: "2X" } } } })[0]).toStartWith("deploy.resources.limits.memory: must be a size");
    expect(problems({ deploy: { resources: { limits: { memory: "1M" } } } })).toEqual(["deploy.resources.limits.memory: must be at least 6M (Docker's minimum)"]);
    expect(problems({ deploy: { resources: { reservations: {} } } })).toEqual(['deploy.resources.reservations: unknown field (known: limits)']);
  });
});

describe("security settings", () => {
  test("read_only, user, network_mode", () => {
    const f = parse({ read_only: false, user: 1000, network_mode: "none" });
    expect([f.read_only, f.user, f.network_mode]).toEqual([false, "1000", "none"]);
    expect(parse({ user: "1000:1000" }).user).toBe("1000:1000");
    expect(parse({ read_only: "true" }).read_only).toBe(true); // as ${VAR} gives it
  });
  test("user names are refused, saying why", () => {
    expect(problems({ user: "app" })).toEqual([
      'user: must be a numeric uid or uid:gid, e.g. "1000" or "1000:1000": Kiln cannot look user names up in the image without running it',
    ]);
    expect(problems({ user: "1000:app" })[0]).toStartWith("user: must be a numeric uid");
  });
  test("network_mode: only none; host, container: and other networks are refused", () => {
    expect(problems({ network_mode: "bridge" })[0]).toStartWith('network_mode: only "none" is allowed: members always run on Kiln');
    expect(problems({ network_mode: "shared-db" })[0]).toStartWith('network_mode: only "none" is allowed');
    expect(problems({ network_mode: "host" })[0]).toStartWith("network_mode: host networking is not allowed");
    expect(problems({ network_mode: "container:abc" })[0]).toStartWith("network_mode: joining another container's network is not allowed");
    expect(problems({ read_only: "yes" })).toEqual(["read_only: must be true or false"]);
  });
});

describe("ports", () => {
  test("numbers, strings and mappings", () => {
    expect(parse({ ports: [8080, "9090", "53/udp", { container: 7000 }, { container: "7001", protocol: "udp" }] }).ports).toEqual([
      { container: 8080, protocol: "tcp" },
      { container: 9090, protocol: "tcp" },
      { container: 53, protocol: "udp" },
      { container: 7000, protocol: "tcp" },
      { container: 7001, protocol: "udp" },
    ]);
  });
  test("problems", () => {
    expect(problems({ ports: ["8080:80"] })).toEqual(["ports[0]: Kiln chooses the host port: give only the container port (e.g. 8080)"]);
    expect(problems({ ports: [70000] })).toEqual(["ports[0]: must be from 1 to 65535"]);
    expect(problems({ ports: ["80/sctp"] })[0]).toStartWith("ports[0]: must be one of: tcp, udp");
    expect(problems({ ports: [{ container: 80, protocol: "tpc" }] })).toEqual(["ports[0].protocol: must be one of: tcp, udp (did you mean tcp?)"]);
    expect(problems({ ports: 8080 })).toEqual(["ports: must be a list, not a number"]);
  });
});

describe("pool", () => {
  test("sizes and idle_timeout", () => {
    expect(parse({ pool: { min_size: 0, max_size: 1000, idle_timeout: "90s" } }).pool).toEqual({ min_size: 0, max_size: 1000, idle_timeout: 90_000 });
  });
  test("problems", () => {
    expect(problems({ pool: { max_size: 1001 } })).toEqual(["pool.max_size: must be from 1 to 1000"]);
    expect(problems({ pool: { min_size: -1 } })).toEqual(["pool.min_size: must be from 0 to 1000"]);
    expect(problems({ pool: { min_size: 1.5 } })).toEqual(["pool.min_size: must be a whole number from 0 to 1000"]);
    expect(problems({ pool: { idle_timeout: "500ms" } })).toEqual(["pool.idle_timeout: must be at least 1s"]);
  });
});

describe("sync", () => {
  const sink = { type: "s3", bucket: "my-bucket" };
  test("a full sync block", () => {
    const s = parse({
      sync: {
        sink: { ...sink, region: "us-east-1", endpoint: "http://127.0.0.1:9000", access_key_id: "AK", secret_access_key: "SK", prefix: "t/${tenantId}/", rclone_flags: ["--s3-force-path-style"] },
        mappings: [{ path: "credentials/", direction: "upload", mode: "copy" }, { path: "/" }, { path: "./a/b" }],
        policy: { on_claim: false, on_release: true, manual: false, periodic: "5m" },
        timeout: "90s",
      },
    }).sync!;
    expect(s.timeout).toBe(90_000);
    expect(s.sink.access_key_id).toBeInstanceOf(Secret);
    expect(s.sink.secret_access_key?.reveal()).toBe("SK");
    expect(s.sink.prefix).toBe("t/${tenantId}/");
    expect(s.mappings).toEqual([{ path: "credentials", direction: "upload", mode: "copy" }, { path: "/" }, { path: "a/b" }]);
    expect(s.policy).toEqual({ on_claim: false, on_release: true, manual: false, periodic: 300_000 });
  });

  test("sink problems", () => {
    expect(problems({ sync: {} })).toEqual(["sync.sink: is required"]);
    expect(problems({ sync: { sink: { ...sink, type: "gcs" } } })).toEqual(["sync.sink.type: must be one of: s3 (the only sink type Kiln supports for now)"]);
    expect(problems({ sync: { sink: { type: "s3" } } })).toEqual(["sync.sink.bucket: is required"]);
    expect(problems({ sync: { sink: { ...sink, bucket: "My_Bucket/path" } } })[0]).toStartWith("sync.sink.bucket: must be an S3 bucket name");
    expect(problems({ sync: { sink: { ...sink, endpoint: "minio:9000" } } })[0]).toStartWith("sync.sink.endpoint: must be an http:// or https:// URL");
    expect(problems({ sync: { sink: { ...sink, endpoint: "not a url" } } })[0]).toStartWith("sync.sink.endpoint: must be a URL");
    expect(problems({ sync: { sink: { ...sink, endpoint: "http://ak:sk@minio:9000" } } })).toEqual(["sync.sink.endpoint: must not contain credentials: set access_key_id and secret_access_key"]);
    expect(problems({ sync: { sink: { ...sink, prefix: "tenants/" } } })[0]).toStartWith("sync.sink.prefix: must contain ${tenantId}");
    expect(problems({ sync: { sink: { ...sink, prefix: "/t/${tenantId}" } } })).toEqual(["sync.sink.prefix: must be relative to the bucket (no leading /)"]);
    expect(problems({ sync: { sink: { ...sink, prefix: "../${tenantId}" } } })).toEqual(['sync.sink.prefix: must not contain "." or ".." segments']);
    expect(problems({ sync: { sink: { ...sink, rclone_flags: ["--fast-list", "--config=/x"] } } })).toEqual(["sync.sink.rclone_flags[1]: --config is not allowed: Kiln gives rclone its configuration"]);
    expect(problems({ sync: { sink: { ...sink, rclone_flags: "--fast-list" } } })).toEqual(["sync.sink.rclone_flags: must be a list, not a string"]);
  });

  test("timeout problems", () => {
    expect(problems({ sync: { sink, timeout: "500ms" } })).toEqual(["sync.timeout: must be at least 1s"]);
    expect(problems({ sync: { sink, timeout: 30 } })).toEqual(['sync.timeout: must be a duration with a unit, e.g. "500ms", "30s", "10m" or "1h30m" (a bare number is ambiguous)']);
  });

  test("secret values never appear in messages", () => {
    const msgs = problems({ sync: { sink: { ...sink, access_key_id: 123456789, secret_access_key: ["hunter2hunter2"] } } }).join("\n");
    expect(msgs).toContain("sync.sink.access_key_id: must be a string");
    expect(msgs).not.toContain("123456789");
    expect(msgs).not.toContain("hunter2");
  });

  test("mapping and policy problems", () => {
    expect(problems({ sync: { sink, mappings: [{ path: "/etc" }] } })).toEqual(['sync.mappings[0].path: must be relative to the state volume: write "etc", or "/" for all of it']);
    expect(problems({ sync: { sink, mappings: [{ path: "a/../../b" }] } })[0]).toStartWith("sync.mappings[0].path: must stay inside the state volume");
    expect(problems({ sync: { sink, mappings: [{ path: "a", direction: "up" }] } })).toEqual(["sync.mappings[0].direction: must be one of: upload, download, bidirectional"]);
    expect(problems({ sync: { sink, mappings: [{ path: "a", mode: "mirror" }] } })).toEqual(["sync.mappings[0].mode: must be one of: sync, copy"]);
    expect(problems({ sync: { sink, mappings: [{ direction: "upload" }] } })).toEqual(["sync.mappings[0].path: is required"]);
    expect(problems({ sync: { sink, mappings: { path: "/" } } })).toEqual(["sync.mappings: must be a list of {path, direction, mode}, not a mapping"]);
    expect(problems({ sync: { sink, policy: { periodic: "100ms" } } })[0]).toStartWith("sync.policy.periodic: must be at least 1s");
    expect(problems({ sync: { sink, policy: { on_claim: "sometimes" } } })).toEqual(["sync.policy.on_claim: must be true or false"]);
  });
});

test("null fields count as absent", () => {
  expect(problems({ name: null, volumes: null, pool: null, sync: null, healthcheck: null, environment: null })).toEqual([]);
});

test("the top level must be a mapping", () => {
  expect(WorkloadFileSchema.safeParse([1]).error?.issues[0]?.message).toBe("must be a mapping (key: value lines), not a list");
});
