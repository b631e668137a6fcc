/** Unit tests for app settings: parsing patches (every accepted form, every refusal), applying, reading back, diffs. */
import { describe, expect, test } from "bun:test";
import { KilnError } from "./errors.ts";
import {
  DEFAULT_SETTINGS,
  HEALTHCHECK_DEFAULTS,
  applySettingsPatch,
  changedFields,
  needsRebuild,
  parseSettingsPatch,
  settingsFromStored,
  type AppSettings,
} from "./settings.ts";

/** Asserts that parsing `input` fails with bad_request and a message naming `field`. */
function expectRefused(input: unknown, field: string): void {
  let caught: unknown;
  try {
    parseSettingsPatch(input);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(KilnError);
  const err = caught as KilnError;
  expect(err.kind).toBe("bad_request");
  expect(err.message).toContain(field);
  expect(err.hint).toBeTruthy();
}

describe("parseSettingsPatch accepts", () => {
  test("an empty object as an empty patch", () => expect(parseSettingsPatch({})).toEqual({}));

  test("port from 1 to 65535", () => {
    expect(parseSettingsPatch({ port: 8080 })).toEqual({ port: 8080 });
    expect(parseSettingsPatch({ port: 1 })).toEqual({ port: 1 });
    expect(parseSettingsPatch({ port: 65535 })).toEqual({ port: 65535 });
  });

  test("healthcheck as a string path, with defaults", () => {
    expect(parseSettingsPatch({ healthcheck: "/healthz" })).toEqual({
      healthcheck: { path: "/healthz", expectStatus: null, ...HEALTHCHECK_DEFAULTS },
    });
  });

  test("healthcheck as an object with status and times in seconds", () => {
    expect(parseSettingsPatch({ healthcheck: { path: "/up?x=1", status: 204, timeout: 0.5, interval: 2, startPeriod: 90 } })).toEqual({
      healthcheck: { path: "/up?x=1", expectStatus: 204, timeoutMs: 500, intervalMs: 2000, startPeriodMs: 90_000 },
    });
  });

  test("healthcheck expectStatus as an alias of status", () => {
    expect(parseSettingsPatch({ healthcheck: { path: "/", expectStatus: 200 } }).healthcheck?.expectStatus).toBe(200);
  });

  test("startCommand and buildCommand, trimmed", () => {
    expect(parseSettingsPatch({ startCommand: " node server.js ", buildCommand: "npm run build:prod" })).toEqual({
      startCommand: "node server.js",
      buildCommand: "npm run build:prod",
    });
  });

  test("empty or blank commands as a reset", () => {
    expect(parseSettingsPatch({ startCommand: "", buildCommand: "   " })).toEqual({ startCommand: null, buildCommand: null });
  });

  test("rootDir, normalising ./ and trailing slashes", () => {
    expect(parseSettingsPatch({ rootDir: "apps/web" })).toEqual({ rootDir: "apps/web" });
    expect(parseSettingsPatch({ rootDir: "./apps/web/" })).toEqual({ rootDir: "apps/web" });
    expect(parseSettingsPatch({ rootDir: "packages/@scope/api" })).toEqual({ rootDir: "packages/@scope/api" });
  });

  test("rootDir '' and '.' as the repository root (null)", () => {
    expect(parseSettingsPatch({ rootDir: "" })).toEqual({ rootDir: null });
    expect(parseSettingsPatch({ rootDir: "." })).toEqual({ rootDir: null });
  });

  test("memory as MB or a size string", () => {
    expect(parseSettingsPatch({ memory: 512 })).toEqual({ memoryMb: 512 });
    expect(parseSettingsPatch({ memory: "512m" })).toEqual({ memoryMb: 512 });
    expect(parseSettingsPatch({ memory: "1g" })).toEqual({ memoryMb: 1024 });
    expect(parseSettingsPatch({ memory: "256mb" })).toEqual({ memoryMb: 256 });
    expect(parseSettingsPatch({ memory: "2GB" })).toEqual({ memoryMb: 2048 });
    expect(parseSettingsPatch({ memory: "300" })).toEqual({ memoryMb: 300 });
    expect(parseSettingsPatch({ memoryMb: 128 })).toEqual({ memoryMb: 128 });
  });

  test("cpus, fractional", () => {
    expect(parseSettingsPatch({ cpus: 0.5 })).toEqual({ cpus: 0.5 });
    expect(parseSettingsPatch({ cpus: 2 })).toEqual({ cpus: 2 });
  });

  test("replicas from 1 to 16", () => {
    expect(parseSettingsPatch({ replicas: 1 })).toEqual({ replicas: 1 });
    expect(parseSettingsPatch({ replicas: 16 })).toEqual({ replicas: 16 });
  });

  test("every restartPolicy", () => {
    for (const p of ["always", "on-failure", "never"] as const) expect(parseSettingsPatch({ restartPolicy: p })).toEqual({ restartPolicy: p });
  });

  test("volumes, trailing slash trimmed", () => {
    expect(parseSettingsPatch({ volumes: [{ name: "data", path: "/data/" }, { name: "up_loads-2", path: "/app/storage" }] })).toEqual({
      volumes: [
        { name: "data", path: "/data" },
        { name: "up_loads-2", path: "/app/storage" },
      ],
    });
    expect(parseSettingsPatch({ volumes: [] })).toEqual({ volumes: [] });
  });

  test("drainTimeout in seconds (and drainTimeoutMs in ms)", () => {
    expect(parseSettingsPatch({ drainTimeout: 10 })).toEqual({ drainTimeoutMs: 10_000 });
    expect(parseSettingsPatch({ drainTimeout: 0.25 })).toEqual({ drainTimeoutMs: 250 });
    expect(parseSettingsPatch({ drainTimeout: 0 })).toEqual({ drainTimeoutMs: 0 });
    expect(parseSettingsPatch({ drainTimeoutMs: 1500 })).toEqual({ drainTimeoutMs: 1500 });
  });

  test("null for every field, as a reset", () => {
    const all = ["port", "healthcheck", "startCommand", "buildCommand", "rootDir", "memory", "cpus", "replicas", "restartPolicy", "volumes", "drainTimeout"];
    const patch = parseSettingsPatch(Object.fromEntries(all.map((k) => [k, null])));
    expect(patch).toEqual({
      port: null,
      healthcheck: null,
      startCommand: null,
      buildCommand: null,
      rootDir: null,
      memoryMb: null,
      cpus: null,
      replicas: null,
      restartPolicy: null,
      volumes: null,
      drainTimeoutMs: null,
    });
  });
});

describe("parseSettingsPatch refuses, naming the field", () => {
  test("a non-object", () => {
    for (const v of [null, "x", 3, [1]]) expectRefused(v, "settings");
  });
  test("an unknown field", () => expectRefused({ replica: 2 }, '"replica"'));
  test("rootDir with ..", () => {
    expectRefused({ rootDir: "../secret" }, "settings.rootDir");
    expectRefused({ rootDir: "apps/../../x" }, "settings.rootDir");
  });
  test("an absolute rootDir", () => expectRefused({ rootDir: "/etc" }, "settings.rootDir"));
  test("rootDir with empty segments or odd characters", () => {
    expectRefused({ rootDir: "apps//web" }, "settings.rootDir");
    expectRefused({ rootDir: "apps/we b" }, "settings.rootDir");
    expectRefused({ rootDir: 3 }, "settings.rootDir");
  });
  test("volume path /", () => expectRefused({ volumes: [{ name: "root", path: "/" }] }, "settings.volumes[0].path"));
  test("volume path /etc (also written /etc/ or //etc)", () => {
    expectRefused({ volumes: [{ name: "e", path: "/etc" }] }, "settings.volumes[0].path");
    expectRefused({ volumes: [{ name: "e", path: "/etc/" }] }, "settings.volumes[0].path");
    expectRefused({ volumes: [{ name: "e", path: "//etc" }] }, "settings.volumes[0].path");
  });
  test("a relative volume path or one with ..", () => {
    expectRefused({ volumes: [{ name: "d", path: "data" }] }, "settings.volumes[0].path");
    expectRefused({ volumes: [{ name: "d", path: "/data/../etc" }] }, "settings.volumes[0].path");
  });
  test("overlapping volume paths", () => {
    expectRefused({ volumes: [{ name: "a", path: "/data" }, { name: "b", path: "/data/sub" }] }, "settings.volumes[1].path");
    expectRefused({ volumes: [{ name: "a", path: "/data/sub" }, { name: "b", path: "/data" }] }, "settings.volumes[1].path");
    expectRefused({ volumes: [{ name: "a", path: "/data" }, { name: "b", path: "/data/" }] }, "settings.volumes[1].path");
    expectRefused({ volumes: [{ name: "a", path: "/data" }, { name: "b", path: "//data" }] }, "settings.volumes[1].path");
  });
  test("sibling paths that share a prefix are not an overlap", () => {
    expect(parseSettingsPatch({ volumes: [{ name: "a", path: "/data" }, { name: "b", path: "/database" }] }).volumes).toHaveLength(2);
  });
  test("duplicate volume names", () => {
    expectRefused({ volumes: [{ name: "a", path: "/x" }, { name: "a", path: "/y" }] }, "settings.volumes[1].name");
  });
  test("bad volume names", () => {
    for (const name of ["Data", "-x", "", "a b", "x".repeat(41), 7]) expectRefused({ volumes: [{ name, path: "/x" }] }, "settings.volumes[0].name");
  });
  test("more than 8 volumes, or not a list", () => {
    expectRefused({ volumes: Array.from({ length: 9 }, (_, i) => ({ name: `v${i}`, path: `/v${i}` })) }, "settings.volumes");
    expectRefused({ volumes: { name: "a", path: "/a" } }, "settings.volumes");
  });
  test("replicas 0 and 17, and fractions", () => {
    expectRefused({ replicas: 0 }, "settings.replicas");
    expectRefused({ replicas: 17 }, "settings.replicas");
    expectRefused({ replicas: 1.5 }, "settings.replicas");
    expectRefused({ replicas: "2" }, "settings.replicas");
  });
  test("memory 'lots', too little or too much", () => {
    expectRefused({ memory: "lots" }, "settings.memory");
    expectRefused({ memory: 8 }, "settings.memory");
    expectRefused({ memory: "65g" }, "settings.memory");
    expectRefused({ memory: 0.5 }, "settings.memory");
  });
  test("port 70000, 0 and a string", () => {
    expectRefused({ port: 70000 }, "settings.port");
    expectRefused({ port: 0 }, "settings.port");
    expectRefused({ port: "80" }, "settings.port");
  });
  test("cpus out of range", () => {
    expectRefused({ cpus: 0 }, "settings.cpus");
    expectRefused({ cpus: 65 }, "settings.cpus");
  });
  test("a restartPolicy that is not one", () => expectRefused({ restartPolicy: "sometimes" }, "settings.restartPolicy"));
  test("a healthcheck path without a leading slash", () => {
    expectRefused({ healthcheck: "healthz" }, "settings.healthcheck.path");
    expectRefused({ healthcheck: { path: "healthz" } }, "settings.healthcheck.path");
    expectRefused({ healthcheck: "/has space" }, "settings.healthcheck.path");
  });
  test("a healthcheck with unknown fields or bad values", () => {
    expectRefused({ healthcheck: { path: "/", retries: 3 } }, "settings.healthcheck.retries");
    expectRefused({ healthcheck: { path: "/", status: 99 } }, "settings.healthcheck.status");
    expectRefused({ healthcheck: { path: "/", timeout: 0 } }, "settings.healthcheck.timeout");
    expectRefused({ healthcheck: { path: "/", interval: 301 } }, "settings.healthcheck.interval");
    expectRefused({ healthcheck: { path: "/", startPeriod: 0.5 } }, "settings.healthcheck.startPeriod");
    expectRefused({ healthcheck: [] }, "settings.healthcheck");
  });
  test("commands with newlines, NUL or over 4096 characters", () => {
    expectRefused({ startCommand: "node a.js\nrm -rf /" }, "settings.startCommand");
    expectRefused({ buildCommand: "make\r" }, "settings.buildCommand");
    expectRefused({ buildCommand: "a\0b" }, "settings.buildCommand");
    expectRefused({ startCommand: "x".repeat(4097) }, "settings.startCommand");
    expectRefused({ startCommand: 42 }, "settings.startCommand");
  });
  test("drainTimeout out of range", () => {
    expectRefused({ drainTimeout: 601 }, "settings.drainTimeout");
    expectRefused({ drainTimeout: -1 }, "settings.drainTimeout");
    expectRefused({ drainTimeoutMs: 1.5 }, "settings.drainTimeoutMs");
  });
});

describe("applySettingsPatch", () => {
  test("sets the given fields and keeps the rest", () => {
    const next = applySettingsPatch(DEFAULT_SETTINGS, parseSettingsPatch({ replicas: 3, memory: "1g" }));
    expect(next).toEqual({ ...DEFAULT_SETTINGS, replicas: 3, memoryMb: 1024 });
  });

  test("null resets a field to its default", () => {
    const current: AppSettings = { ...DEFAULT_SETTINGS, replicas: 4, port: 8080, restartPolicy: "never", drainTimeoutMs: 5000, volumes: [{ name: "d", path: "/d" }] };
    const next = applySettingsPatch(current, parseSettingsPatch({ replicas: null, port: null, restartPolicy: null, drainTimeout: null, volumes: null }));
    expect(next).toEqual(DEFAULT_SETTINGS);
  });

  test("does not change its input", () => {
    const current: AppSettings = { ...DEFAULT_SETTINGS, replicas: 2 };
    applySettingsPatch(current, { replicas: 5 });
    expect(current.replicas).toBe(2);
  });
});

describe("settingsFromStored", () => {
  test("missing fields take their defaults", () => {
    expect(settingsFromStored({ replicas: 3 })).toEqual({ ...DEFAULT_SETTINGS, replicas: 3 });
    expect(settingsFromStored({})).toEqual(DEFAULT_SETTINGS);
  });
  test("nothing stored gives the defaults", () => {
    expect(settingsFromStored(null)).toEqual(DEFAULT_SETTINGS);
    expect(settingsFromStored(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(settingsFromStored("junk")).toEqual(DEFAULT_SETTINGS);
  });
  test("a full row reads back as written", () => {
    const full: AppSettings = {
      port: 8080,
      healthcheck: { path: "/h", expectStatus: 200, timeoutMs: 1000, intervalMs: 500, startPeriodMs: 10_000 },
      startCommand: "node s.js",
      buildCommand: "make",
      rootDir: "apps/web",
      memoryMb: 256,
      cpus: 1,
      replicas: 2,
      restartPolicy: "on-failure",
      volumes: [{ name: "d", path: "/d" }],
      drainTimeoutMs: 1000,
      previews: { enabled: true, ttlHours: 24, max: 3, forks: true, secrets: false },
    };
    expect(settingsFromStored(JSON.parse(JSON.stringify(full)))).toEqual(full);
  });
});

describe("needsRebuild", () => {
  test("only for buildCommand and rootDir", () => {
    expect(needsRebuild(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, buildCommand: "make" })).toBe(true);
    expect(needsRebuild(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, rootDir: "apps/web" })).toBe(true);
    expect(needsRebuild(DEFAULT_SETTINGS, DEFAULT_SETTINGS)).toBe(false);
    expect(
      needsRebuild(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, startCommand: "x", replicas: 3, port: 1, memoryMb: 64, volumes: [{ name: "a", path: "/a" }] }),
    ).toBe(false);
  });
});

describe("changedFields", () => {
  test("names exactly the fields that differ, by value", () => {
    const before: AppSettings = { ...DEFAULT_SETTINGS, volumes: [{ name: "a", path: "/a" }] };
    const after: AppSettings = { ...DEFAULT_SETTINGS, replicas: 2, port: 80, volumes: [{ name: "a", path: "/a" }] };
    expect(changedFields(before, after).sort()).toEqual(["port", "replicas"]);
    expect(changedFields(before, { ...before, volumes: [{ name: "a", path: "/b" }] })).toEqual(["volumes"]);
    expect(changedFields(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS })).toEqual([]);
  });
});

describe("previews", () => {
  test("defaults, partial objects, and what is refused", () => {
    expect(DEFAULT_SETTINGS.previews).toEqual({ enabled: false, ttlHours: 72, max: 5, forks: false, secrets: false });
    expect(parseSettingsPatch({ previews: { enabled: true, ttl: 2 } }).previews).toEqual({ enabled: true, ttlHours: 2 });
    const on = applySettingsPatch(DEFAULT_SETTINGS, parseSettingsPatch({ previews: { enabled: true, ttl: 2 } }));
    expect(on.previews).toEqual({ enabled: true, ttlHours: 2, max: 5, forks: false, secrets: false });
    // a later patch of one field keeps the others
    expect(applySettingsPatch(on, parseSettingsPatch({ previews: { forks: true } })).previews).toEqual({ enabled: true, ttlHours: 2, max: 5, forks: true, secrets: false });
    expect(applySettingsPatch(on, parseSettingsPatch({ previews: null })).previews).toEqual(DEFAULT_SETTINGS.previews);
    expect(settingsFromStored({ previews: { enabled: true } }).previews).toEqual({ ...DEFAULT_SETTINGS.previews, enabled: true });
    for (const bad of [{ enabled: "yes" }, { max: 0 }, { ttl: -1 }, { nope: 1 }, "on"]) {
      expect(() => parseSettingsPatch({ previews: bad })).toThrow(/settings\.previews/);
    }
  });
});
