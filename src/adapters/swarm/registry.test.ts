import { expect, test } from "bun:test";
import { pushRef, registryConfig } from "./registry.ts";

test("an image's reference in the registry keeps its repository and tag", () => {
  expect(pushRef("127.0.0.1:5000", "kiln/app-web:b1")).toEqual({ repo: "127.0.0.1:5000/kiln/app-web", tag: "b1", ref: "127.0.0.1:5000/kiln/app-web:b1" });
  expect(pushRef("10.0.0.5:5000", "kiln/app-web")).toEqual({ repo: "10.0.0.5:5000/kiln/app-web", tag: "latest", ref: "10.0.0.5:5000/kiln/app-web:latest" });
});

test("Kiln's registry listens where it is told, stores under the data dir, allows deletes", () => {
  expect(registryConfig("127.0.0.1:5000", "/data/registry/data")).toEqual({
    version: 0.1,
    log: { level: "warn", fields: { service: "kiln-registry" } },
    storage: { filesystem: { rootdirectory: "/data/registry/data" }, delete: { enabled: true } },
    http: { addr: "127.0.0.1:5000", headers: { "X-Content-Type-Options": ["nosniff"] } },
  });
});
