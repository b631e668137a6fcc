/**
 * Kiln's zero-config builder against the real Docker engine: build the node-npm fixture (with
 * a dependency from the npm registry) and the static fixture on Kiln's node base image, run
 * each, and fetch it on its 127.0.0.1 port. A second build of the same app is served by the
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

const FIXTURES = join(import.meta.dir, "../fixtures/apps");
const RUN = newId(8);
const LABELS = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.run": `builders-${RUN}` };
const RUN_LABEL = { "kiln.test.run": LABELS["kiln.test.run"] };

const runtime = new DockerEngine();
let builder: KilnBuilder;

beforeAll(async () => {
  await runtime.ping();
  const base = await ensureNodeBaseImage(runtime);
  builder = new KilnBuilder({ runtime, baseImage: async () => base });
}, 300_000);

afterAll(async () => {
  for (const c of await runtime.listContainers(RUN_LABEL)) await runtime.removeContainer(c.id);
  for (const img of await runtime.listImages(RUN_LABEL)) {
    for (const tag of img.tags) await runtime.removeImage(tag);
    if (img.tags.length === 0) await runtime.removeImage(img.id);
  }
});

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
async function run(image: string, port: number, name: string): Promise<string> {
  const id = await runtime.createContainer({
    name: `kiln-test-builders-${RUN}-${name}`,
    image,
    labels: LABELS,
    env: {},
    network: "bridge",
    publishPort: port,
    memoryBytes: 256 * 1024 * 1024,
    nanoCpus: 1_000_000_000,
    pidsLimit: 256,
    restartPolicy: "no",
  });
  await runtime.startContainer(id);
  const info = await runtime.inspectContainer(id);
  if (!info?.published) throw new Error(`container ${name} has no published port: ${JSON.stringify(info)}`);
  const url = `http://${info.published}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    );
    if (ok) return url;
    if (Date.now() > deadline) {
      throw new Error(`${name} did not answer on ${url}:\n${(await runtime.tailLogs(id, 20)).join("\n")}`);
    }
    await Bun.sleep(200);
  }
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

  test("static: served by busybox httpd; the generated Dockerfile is not in the image; a rebuild comes from the build cache", async () => {
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
