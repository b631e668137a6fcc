/**
 * Kiln's zero-config builder against the real Docker engine: build the node-npm fixture (with
 * a dependency from the npm registry) on Kiln's node base image and the static fixture on the
 * static (Caddy) image, run each, and fetch it on its 127.0.0.1 port. A second build of the same app is served by the
 * build cache: BuildKit reports its steps as cached (build times are bench/deploy.bench.ts's
 * business). Everything made here carries kiln.test=1 and a label unique to this run, and is
 * removed at the end; the shared base image is kept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { BuildInput } from "../../src/core/ports/builder.ts";
import { newId } from "../../src/core/ids.ts";
import { KilnBuilder, type KilnBuildOutput } from "../../src/adapters/builders/kiln-builder.ts";
import { ensureNodeBaseImage } from "../../src/adapters/docker/base-image.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { RuntimeImages } from "../../src/adapters/docker/runtime-images.ts";
import { removeLabelled, serveImage } from "../helpers/served-image.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/apps");
const RUN = newId(8);
const LABELS = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.run": `builders-${RUN}` };
const RUN_LABEL = { "kiln.test.run": LABELS["kiln.test.run"] };

const runtime = new DockerEngine();
let builder: KilnBuilder;

beforeAll(async () => {
  await runtime.ping();
  const base = await ensureNodeBaseImage(runtime);
  const images = new RuntimeImages({ runtime });
  builder = new KilnBuilder({ runtime, baseImage: async (req) => (req.name === "static" ? images.resolve(req) : base) });
}, 300_000);

afterAll(() => removeLabelled(runtime, RUN_LABEL));

async function build(app: string, n: number): Promise<KilnBuildOutput & { lines: string[] }> {
  const lines: string[] = [];
  const input: BuildInput = {
    deploymentId: `test-${app}`,
    buildId: `${RUN}-${n}`,
    srcDir: join(FIXTURES, app),
    tag: `kiln/test-builders-${app}:${RUN}-${n}`,
    labels: LABELS,
    secrets: {},
    log: (_stream, text) => lines.push(text),
  };
  try {
    return { ...(await builder.build(input)), lines };
  } catch (err) {
    console.log(lines.join("\n"));
    throw err;
  }
}

/** Run `image`, publishing `port` on 127.0.0.1; the base URL to fetch. */
function run(image: string, port: number, name: string): Promise<string> {
  return serveImage(runtime, { image, port, name: `kiln-test-builders-${RUN}-${name}`, labels: LABELS });
}

describe("KilnBuilder on the real engine", () => {
  test("node-npm: installs is-number from the registry, runs as uid 1000 with NODE_ENV=production; a rebuild comes from the build cache", async () => {
    const first = await build("node-npm", 1);
    expect(first.port).toBe(3000);
    expect(first.lines).toContain("kiln: packageManager: npm (found package-lock.json)");
    expect(first.lines.some((l) => l.includes("npm ci --omit=dev"))).toBe(true);

    const url = await run(first.image, first.port!, "npm");
    const body = (await (await fetch(url)).json()) as Record<string, unknown>;
    expect(body).toEqual({ app: "node-npm", isNumber: true, env: "production", uid: 1000 });

    // Built again unchanged: BuildKit serves every step from its cache, the npm install included.
    const second = await build("node-npm", 2);
    expect(second.image).not.toBe(first.image);
    const install = second.lines.find((l) => / RUN .*npm ci --omit=dev/.test(l));
    expect(install).toEndWith(" CACHED");
    expect(second.cachedSteps).toContain(install!.slice(0, -" CACHED".length));
    expect(second.lines.filter((l) => l.includes(" RUN ") && / DONE \d+\.\ds$/.test(l))).toEqual([]); // no RUN step ran
  }, 240_000);

  test("static: served by Caddy; the generated Dockerfile is not in the image; a rebuild comes from the build cache", async () => {
    const first = await build("static", 1);
    expect(first.lines).toContain("kiln: kind: static site (index.html at the root and no package.json: a static site)");

    const url = await run(first.image, first.port!, "static");
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("hello from a static site");
    const css = await fetch(`${url}/style.css`);
    expect(await css.text()).toContain("font-family");
    const generated = await fetch(`${url}/.kiln/Dockerfile`);
    await generated.arrayBuffer();
    expect(generated.status).toBe(404);

    const second = await build("static", 2);
    expect(second.cachedSteps?.some((step) => step.includes("COPY"))).toBe(true); // the site's files, unchanged, from the cache
  }, 120_000);
});
