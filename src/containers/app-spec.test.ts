import { expect, test } from "bun:test";
import { Secret } from "../core/secret.ts";
import { DEFAULT_SETTINGS } from "../core/settings.ts";
import { appContainerSpec, resolvePort, type AppContainerInput } from "./app-spec.ts";

const input: AppContainerInput = {
  name: "web",
  deploymentId: "d1",
  buildId: "b7",
  releaseId: "r3",
  replica: 1,
  suffix: "x1y2",
  image: "kiln/app-web:b7",
  env: { NODE_ENV: new Secret("production"), API_KEY: new Secret("s3cret") },
  port: 8080,
  settings: DEFAULT_SETTINGS,
  limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 1_000_000_000, pids: 256 },
  network: "kiln",
  instanceId: "i1",
};

test("an app container: env with PORT, the deployment's labels, the limits, no engine restarts (Kiln restarts apps)", () => {
  expect(appContainerSpec(input)).toEqual({
    name: "kiln-web-x1y2",
    image: "kiln/app-web:b7",
    labels: {
      "kiln.managed": "true",
      "kiln.instance": "i1",
      "kiln.kind": "app",
      "kiln.deployment": "d1",
      "kiln.build": "b7",
      "kiln.app-port": "8080",
      "kiln.replica": "1",
      "kiln.release": "r3",
    },
    env: { NODE_ENV: "production", API_KEY: "s3cret", PORT: "8080" },
    network: "kiln",
    publishPort: 8080,
    memoryBytes: 512 * 1024 * 1024,
    nanoCpus: 1_000_000_000,
    pidsLimit: 256,
    restartPolicy: "no",
  });
});

test("the port: settings first, then the builder's guess, then 3000", () => {
  expect(resolvePort({ port: 5000 }, 8080)).toBe(5000);
  expect(resolvePort({ port: null }, 8080)).toBe(8080);
  expect(resolvePort({ port: null }, null)).toBe(3000);
  const spec = appContainerSpec({ ...input, port: 3000, env: {} });
  expect([spec.publishPort, spec.env]).toEqual([3000, { PORT: "3000" }]);
});

test("settings: start command through sh, memory and cpus over the defaults, named volumes by deployment id", () => {
  const spec = appContainerSpec({
    ...input,
    settings: { ...DEFAULT_SETTINGS, startCommand: "node server.js --flag", memoryMb: 256, cpus: 0.5, volumes: [{ name: "data", path: "/data" }] },
  });
  expect(spec.entrypoint).toEqual(["/bin/sh", "-c"]);
  expect(spec.cmd).toEqual(["node server.js --flag"]);
  expect([spec.memoryBytes, spec.nanoCpus, spec.pidsLimit]).toEqual([256 * 1024 * 1024, 500_000_000, 256]);
  expect(spec.volumes).toEqual([{ name: "kiln-d1-data", target: "/data" }]);
  const plain = appContainerSpec(input);
  expect([plain.entrypoint, plain.cmd, plain.volumes]).toEqual([undefined, undefined, undefined]);
});

test("shared networks: joined besides Kiln's network, reachable there by the deployment's name", () => {
  const spec = appContainerSpec({ ...input, sharedNetworks: ["shared-db", "cache"] });
  expect([spec.network, spec.extraNetworks]).toEqual([
    "kiln",
    [
      { name: "shared-db", aliases: ["web"] },
      { name: "cache", aliases: ["web"] },
    ],
  ]);
  expect(appContainerSpec({ ...input, sharedNetworks: [] }).extraNetworks).toBeUndefined();
});
