import { describe, expect, test } from "bun:test";
import type { RuntimeRequest } from "../builders/plan.ts";
import { resolveNodeImage } from "./node-image.ts";
import { fakeHost, fakeImageRuntime } from "./testdata/fake-image-runtime.ts";

const DEFAULT = "node:20-bookworm-slim";
const HOST = "kiln/node-runtime:20-host";

/** Resolve `req` with config.nodeImage = DEFAULT (unless given) and a host Node.js of `hostMajor`. */
async function choose(req: Omit<RuntimeRequest, "name">, world: { local?: string[]; pullable?: string[]; nodeImage?: string | null; hostMajor?: number | Error } = {}) {
  const runtime = fakeImageRuntime(world);
  const hostMajor = world.hostMajor ?? 20;
  const host =
    hostMajor instanceof Error
      ? async () => {
          runtime.calls.push("probe host");
          throw hostMajor;
        }
      : fakeHost(`v${hostMajor}.1.0`, hostMajor, `kiln/node-runtime:${hostMajor}-host`, runtime.calls);
  const nodeImage = world.nodeImage === null ? undefined : (world.nodeImage ?? DEFAULT);
  const got = await resolveNodeImage({ name: "node", versionFrom: ".nvmrc", ...req }, { runtime, nodeImage, host });
  return { ...got, calls: runtime.calls };
}

describe("resolveNodeImage: no version asked", () => {
  test("config.nodeImage when it is local; the host is not even probed", async () => {
    expect(await choose({}, { local: [DEFAULT] })).toEqual({ ref: DEFAULT, calls: [`exists ${DEFAULT}`] });
  });

  test("config.nodeImage pulled when a registry gives it", async () => {
    expect(await choose({}, { pullable: [DEFAULT] })).toEqual({ ref: DEFAULT, calls: [`exists ${DEFAULT}`, `pull ${DEFAULT}`, `exists ${DEFAULT}`] });
  });

  test("else the host's image, without a warning", async () => {
    expect(await choose({})).toEqual({ ref: HOST, calls: [`exists ${DEFAULT}`, `pull ${DEFAULT}`, "probe host", `host image ${HOST}`] });
  });
});

describe("resolveNodeImage: a version asked", () => {
  test(">=18: config.nodeImage wins, as its major satisfies the range (no newer image is tried)", async () => {
    const got = await choose({ version: ">=18" }, { pullable: [DEFAULT] });
    expect(got.ref).toBe(DEFAULT);
    expect(got.calls.filter((c) => c.startsWith("pull"))).toEqual([`pull ${DEFAULT}`]);
  });

  test("^18: node:18-bookworm-slim is tried first and pulled; config.nodeImage is not asked", async () => {
    const got = await choose({ version: "^18" }, { pullable: ["node:18-bookworm-slim"] });
    expect(got).toEqual({
      ref: "node:18-bookworm-slim",
      calls: ["exists node:18-bookworm-slim", "pull node:18-bookworm-slim", "exists node:18-bookworm-slim"],
    });
  });

  test("20.11.1 and lts/iron: the default image, whose major is 20", async () => {
    expect((await choose({ version: "20.11.1" }, { local: [DEFAULT] })).ref).toBe(DEFAULT);
    expect((await choose({ version: "lts/iron" }, { local: [DEFAULT] })).ref).toBe(DEFAULT);
  });

  test(">=22: the newest satisfying LTS (26) is the one pulled; older satisfying ones only if local", async () => {
    const got = await choose({ version: ">=22" }, { local: ["node:22-bookworm-slim"] });
    expect(got).toEqual({
      ref: "node:22-bookworm-slim",
      calls: ["exists node:26-bookworm-slim", "pull node:26-bookworm-slim", "exists node:24-bookworm-slim", "exists node:22-bookworm-slim"],
    });
  });

  test("lts/*: the newest LTS, node:26", async () => {
    expect((await choose({ version: "lts/*" }, { pullable: ["node:26-bookworm-slim"] })).ref).toBe("node:26-bookworm-slim");
  });

  test("^25: an odd major when only it satisfies", async () => {
    expect((await choose({ version: "^25" }, { pullable: ["node:25-bookworm-slim"] })).ref).toBe("node:25-bookworm-slim");
  });

  test("no image and the host's major satisfies: the host's image, no warning, config.nodeImage not tried twice", async () => {
    const got = await choose({ version: "20" });
    expect(got).toEqual({ ref: HOST, calls: [`exists ${DEFAULT}`, `pull ${DEFAULT}`, "probe host", `host image ${HOST}`] });
  });

  test("no image satisfies and the host's major does not: the host's image with a warning naming both", async () => {
    const got = await choose({ version: "^18" });
    expect(got.ref).toBe(HOST);
    expect(got.warnings).toEqual([".nvmrc asks for Node.js ^18 but no node:18 image is available (no registry answered); building with the host's Node.js 20"]);
    expect(got.calls).toEqual(["exists node:18-bookworm-slim", "pull node:18-bookworm-slim", "probe host", `exists ${DEFAULT}`, `pull ${DEFAULT}`, `host image ${HOST}`]);
  });

  test("several majors would do: the warning names them all", async () => {
    const got = await choose({ version: ">=22", versionFrom: "engines.node in package.json" });
    expect(got.warnings).toEqual([
      "engines.node in package.json asks for Node.js >=22 but no node:26, node:24 or node:22 image is available (no registry answered); building with the host's Node.js 20",
    ]);
  });

  test("the host's major satisfies where config.nodeImage's does not: the host's image wins", async () => {
    const got = await choose({ version: "^22" }, { local: [DEFAULT], hostMajor: 22 });
    expect(got).toMatchObject({ ref: "kiln/node-runtime:22-host" });
    expect(got.warnings).toBeUndefined();
  });

  test("neither satisfies but config.nodeImage is here: it is used, with the warning", async () => {
    const got = await choose({ version: "^18" }, { local: [DEFAULT] });
    expect(got.ref).toBe(DEFAULT);
    expect(got.warnings).toEqual([".nvmrc asks for Node.js ^18 but no node:18 image is available (no registry answered); building with node:20-bookworm-slim (Node.js 20)"]);
  });

  test("no node on the host: config.nodeImage is used if here, else the host's error stands", async () => {
    const gone = new Error("no `node` on PATH");
    expect((await choose({ version: "^18" }, { local: [DEFAULT], hostMajor: gone })).ref).toBe(DEFAULT);
    await expect(choose({ version: "^18" }, { hostMajor: gone })).rejects.toBe(gone);
  });

  test("without config.nodeImage: only the official images for the range, then the host", async () => {
    const got = await choose({ version: "18" }, { nodeImage: null });
    expect(got.calls).toEqual(["exists node:18-bookworm-slim", "pull node:18-bookworm-slim", "probe host", `host image ${HOST}`]);
    expect(got.warnings).toHaveLength(1);
  });

  test("a version Kiln cannot read: what an app without one gets, with a warning", async () => {
    const got = await choose({ version: "lts/unknown" });
    expect(got.ref).toBe(HOST);
    expect(got.warnings).toEqual(['.nvmrc asks for Node.js "lts/unknown", which Kiln cannot read as a version; building with the host\'s Node.js 20']);
  });
});
