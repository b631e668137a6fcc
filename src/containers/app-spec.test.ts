import { expect, test } from "bun:test";
import { Secret } from "../core/secret.ts";
import { appContainerSpec, type AppContainerInput } from "./app-spec.ts";

const input: AppContainerInput = {
  name: "web",
  deploymentId: "d1",
  buildId: "b7",
  image: "kiln/app-web:b7",
  env: { NODE_ENV: new Secret("production"), API_KEY: new Secret("s3cret") },
  port: 8080,
  limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 1_000_000_000, pids: 256 },
  network: "kiln",
  instanceId: "i1",
};

test("an app container: env with PORT, the deployment's labels, the limits, no engine restarts (Kiln restarts apps)", () => {
  expect(appContainerSpec(input)).toEqual({
    name: "kiln-web-b7",
    image: "kiln/app-web:b7",
    labels: { "kiln.managed": "true", "kiln.instance": "i1", "kiln.kind": "app", "kiln.deployment": "d1", "kiln.build": "b7", "kiln.app-port": "8080" },
    env: { NODE_ENV: "production", API_KEY: "s3cret", PORT: "8080" },
    network: "kiln",
    publishPort: 8080,
    memoryBytes: 512 * 1024 * 1024,
    nanoCpus: 1_000_000_000,
    pidsLimit: 256,
    restartPolicy: "no",
  });
});

test("without a detected port the app listens on 3000", () => {
  const spec = appContainerSpec({ ...input, port: undefined, env: {} });
  expect([spec.publishPort, spec.env]).toEqual([3000, { PORT: "3000" }]);
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
