import { expect, test } from "bun:test";
import type { ContainerRuntime } from "../../core/ports/runtime.ts";
import { createBuilders } from "./index.ts";

const runtime = {} as ContainerRuntime;

test("createBuilders: railpack, dockerfile, kiln", () => {
  expect(createBuilders({ runtime, baseImage: async () => "b" }).map((b) => b.name)).toEqual(["railpack", "dockerfile", "kiln"]);
});

test("railpack does not apply without a runtime that can load images", async () => {
  const [railpack] = createBuilders({ runtime, baseImage: async () => "b", railpack: { buildkitHost: "tcp://127.0.0.1:1" } });
  expect(await railpack!.applies("/src")).toBe(false);
});
