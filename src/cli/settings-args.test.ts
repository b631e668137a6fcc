import { expect, test } from "bun:test";
import { UsageError } from "./args.ts";
import { mergeHealthcheck, parseSettingsArgs } from "./settings-args.ts";

test("key=value pairs become the PATCH body: numbers as numbers, memory sizes, volumes, commands", () => {
  const r = parseSettingsArgs(["replicas=2", "port=8080", "memory=512m", "cpus=0.5", "startCommand=node x.js", "volumes=data:/data,logs:/var/log", "restartPolicy=on-failure", "drainTimeout=5"]);
  expect(r).toEqual({
    patch: { replicas: 2, port: 8080, memory: "512m", cpus: 0.5, startCommand: "node x.js", volumes: [{ name: "data", path: "/data" }, { name: "logs", path: "/var/log" }], restartPolicy: "on-failure", drainTimeout: 5 },
  });
  expect(parseSettingsArgs(["memory=256"]).patch.memory).toBe(256);
});

test("empty or null resets a field; healthcheck=none drops the check", () => {
  expect(parseSettingsArgs(["port=", "memory=null", "healthcheck=none"]).patch).toEqual({ port: null, memory: null, healthcheck: null });
});

test("healthcheck.* keys are collected for a merge with the current check", () => {
  const r = parseSettingsArgs(["healthcheck.path=/healthz", "healthcheck.timeout=5"]);
  expect(r).toEqual({ patch: {}, healthcheck: { path: "/healthz", timeout: 5 } });
  expect(parseSettingsArgs(["healthcheck=/up"]).healthcheck).toEqual({ path: "/up" });
  const current = { path: "/", status: null, timeout: 2, interval: 1, startPeriod: 60 };
  expect(mergeHealthcheck(current, { path: "/healthz" })).toEqual({ ...current, path: "/healthz" });
  expect(mergeHealthcheck(null, { path: "/h" })).toEqual({ path: "/h" });
  expect(() => mergeHealthcheck(null, { timeout: 3 })).toThrow("set healthcheck.path");
});

test("unknown keys, bad numbers and malformed pairs are usage errors naming what to type", () => {
  expect(() => parseSettingsArgs(["replica=2"])).toThrow('unknown setting "replica"; known: port, replicas');
  expect(() => parseSettingsArgs(["healthcheck.bogus=1"])).toThrow(UsageError);
  expect(() => parseSettingsArgs(["replicas=two"])).toThrow("replicas takes a whole number");
  expect(() => parseSettingsArgs(["replicas"])).toThrow("key=value");
  expect(() => parseSettingsArgs(["volumes=data"])).toThrow("name:/path");
  expect(() => parseSettingsArgs(["restartPolicy=sometimes"])).toThrow(UsageError);
  expect(() => parseSettingsArgs([])).toThrow(UsageError);
});

test("previews.* keys become one previews object (merged server-side); previews=default resets them", () => {
  expect(parseSettingsArgs(["previews.enabled=true", "previews.ttl=24", "previews.max=3", "previews.forks=no", "previews.secrets=false", "replicas=1"]).patch).toEqual({
    previews: { enabled: true, ttl: 24, max: 3, forks: false, secrets: false },
    replicas: 1,
  });
  expect(parseSettingsArgs(["previews.ttl=0.5"]).patch).toEqual({ previews: { ttl: 0.5 } });
  expect(parseSettingsArgs(["previews=default"]).patch).toEqual({ previews: null });
  expect(() => parseSettingsArgs(["previews.enabled=maybe"])).toThrow("previews.enabled is true or false");
  expect(() => parseSettingsArgs(["previews.max=many"])).toThrow("previews.max takes a whole number");
  expect(() => parseSettingsArgs(["previews.bogus=1"])).toThrow('unknown setting "previews.bogus"');
  expect(() => parseSettingsArgs(["previews.ttl="])).toThrow("previews=default");
  expect(() => parseSettingsArgs(["previews=default", "previews.enabled=true"])).toThrow("contradict");
  expect(() => parseSettingsArgs(["previews=on"])).toThrow("previews.enabled=true");
});
