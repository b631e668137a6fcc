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
