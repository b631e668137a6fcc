import { expect, test } from "bun:test";
import { RuntimeImages } from "./runtime-images.ts";
import { fakeImageRuntime } from "./testdata/fake-image-runtime.ts";

test("an answer is remembered for a while (no registry try, no host probe), while its image is still there", async () => {
  const runtime = fakeImageRuntime({ local: ["node:22-bookworm-slim"] });
  let now = 0;
  const images = new RuntimeImages({ runtime, nodeImage: "node:22-bookworm-slim", now: () => now });
  expect((await images.resolve({ name: "node" })).ref).toBe("node:22-bookworm-slim");
  const first = runtime.calls.length;
  now += 60_000;
  expect((await images.resolve({ name: "node" })).ref).toBe("node:22-bookworm-slim");
  expect(runtime.calls.slice(first)).toEqual(["exists node:22-bookworm-slim"]); // only the check that it is still there
  now += 5 * 60_000; // too old: the resolver looks again (no memory check first)
  await images.resolve({ name: "node" });
  expect(runtime.calls.slice(first)).toEqual(["exists node:22-bookworm-slim", "exists node:22-bookworm-slim"]);
  // a request for another version is its own answer
  await images.resolve({ name: "node", version: "22" });
  expect(runtime.calls.length).toBe(first + 3);
});

test("a remembered image that was removed is resolved again", async () => {
  const runtime = fakeImageRuntime({ local: ["node:22-bookworm-slim"] });
  const images = new RuntimeImages({ runtime, nodeImage: "node:22-bookworm-slim", now: () => 0 });
  await images.resolve({ name: "node" });
  const exists = runtime.imageExists.bind(runtime);
  let gone = true;
  runtime.imageExists = async (ref) => (gone && ref === "node:22-bookworm-slim" ? ((gone = false), false) : exists(ref));
  const before = runtime.calls.length;
  expect((await images.resolve({ name: "node" })).ref).toBe("node:22-bookworm-slim");
  expect(runtime.calls.slice(before)).toContain("exists node:22-bookworm-slim"); // the resolver's own look, not the memory's
});
