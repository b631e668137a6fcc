/**
 * Bun apps, and the Node.js version an app asks for, against the real engine, with the runtime
 * images resolved as main.ts wires them (RuntimeImages). This machine has no registry, so:
 * - bun-app (bun.lock, one dependency from the npm registry, Bun.serve) builds on the image
 *   assembled from the host's bun, runs as uid 1000 and answers from that Bun, with bunx and the
 *   host's node beside it;
 * - node-nvmrc asks for Node.js 18 in .nvmrc, which the host does not have: it builds on the
 *   host's Node image, and the build log says so.
 * Everything made here carries kiln.test=1 and a label unique to this run and is removed at the
 * end; the shared base images are kept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { BuildInput } from "../../src/core/ports/builder.ts";
import { newId } from "../../src/core/ids.ts";
import { KilnBuilder, type KilnBuildOutput } from "../../src/adapters/builders/kiln-builder.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { RuntimeImages } from "../../src/adapters/docker/runtime-images.ts";
import { removeLabelled, serveImage } from "../helpers/served-image.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/apps");
const RUN = newId(8);
const LABELS = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.run": `versions-${RUN}` };
const RUN_LABEL = { "kiln.test.run": LABELS["kiln.test.run"] };

const runtime = new DockerEngine();
const builder = new KilnBuilder({ runtime, baseImage: (req) => new RuntimeImages({ runtime }).resolve(req) });

/** The first line `<tool> --version` prints on the host. */
function hostVersion(tool: string): string {
  return Bun.spawnSync([tool, "--version"]).stdout.toString().trim();
}

beforeAll(async () => {
  await runtime.ping();
});

afterAll(() => removeLabelled(runtime, RUN_LABEL));

async function build(app: string): Promise<KilnBuildOutput & { lines: string[]; labels: Record<string, string> }> {
  const lines: string[] = [];
  const input: BuildInput = {
    deploymentId: `test-${app}`,
    buildId: RUN,
    srcDir: join(FIXTURES, app),
    tag: `kiln/test-versions-${app}:${RUN}`,
    labels: LABELS,
    secrets: {},
    log: (_stream, text) => lines.push(text),
  };
  const out = await builder.build(input).catch((err: unknown) => {
    console.log(lines.join("\n"));
    throw err;
  });
  const image = (await runtime.listImages(RUN_LABEL)).find((img) => img.tags.includes(out.image));
  return { ...out, lines, labels: image?.labels ?? {} };
}

/** Serve `image` with `port` published on 127.0.0.1; its JSON answer. */
async function answerOf(image: string, port: number, name: string): Promise<Record<string, unknown>> {
  const url = await serveImage(runtime, { image, port, name: `kiln-test-versions-${RUN}-${name}`, labels: LABELS });
  expect(url).toStartWith("http://127.0.0.1:");
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

describe("runtime images chosen per app, on the real engine", () => {
  test("bun-app: built on the image assembled from the host's bun (no oven/bun here); runs on that Bun as uid 1000, with bunx and the host's node", async () => {
    expect(await runtime.imageExists("oven/bun:1")).toBe(false); // what makes Kiln assemble one
    const out = await build("bun-app");
    expect(out.port).toBe(3000);
    expect(out.lines.some((l) => l.startsWith("kiln: packageManager: bun"))).toBe(true);
    expect(out.lines.some((l) => l.includes("bun install --frozen-lockfile --production"))).toBe(true);
    // the app's image inherits the labels of the base it was built FROM
    const bunVersion = hostVersion("bun");
    expect(out.labels).toMatchObject({ "kiln.base": "bun", "kiln.base.version": bunVersion, "kiln.base.node": hostVersion("node") });

    const body = await answerOf(out.image, out.port!, "bun");
    expect(body).toEqual({
      app: "bun-app",
      bun: bunVersion,
      isNumber: true,
      env: "production",
      uid: 1000,
      tools: { bunx: bunVersion, node: hostVersion("node") },
    });
  }, 240_000);

  test("node-nvmrc: .nvmrc asks for Node.js 18, which no image here has: built on the host's Node.js, with a warning in the build log", async () => {
    const hostNode = hostVersion("node");
    const hostMajor = Number(/^v(\d+)\./.exec(hostNode)?.[1]);
    expect(hostMajor).not.toBe(18);
    expect(await runtime.imageExists("node:18-bookworm-slim")).toBe(false);

    const out = await build("node-nvmrc");
    expect(out.lines).toContain(
      `kiln: warning: .nvmrc asks for Node.js 18 but no node:18 image is available (no registry answered); building with the host's Node.js ${hostMajor}`,
    );
    expect(out.labels).toMatchObject({ "kiln.base": "node", "kiln.base.version": hostNode });
    expect(await answerOf(out.image, out.port!, "nvmrc")).toEqual({ app: "node-nvmrc", node: hostNode });
  }, 240_000);
});
