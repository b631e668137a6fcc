/**
 * Static sites on the real engine, served by Caddy from the static image (assembled from the
 * host's caddy): the plain fixture (index.html at the root, nothing to build) and static-built
 * (a build script writing dist/), both through KilnBuilder with RuntimeImages as main.ts wires
 * them, and static-built again as an SPA from its detected plan with serve.spa set. Each image is
 * run with its port on 127.0.0.1 and checked over HTTP (pages, folder index, cache headers,
 * compression, 404s, hidden files), for the user caddy runs as, and file by file for what the
 * image holds (the site alone: no Node.js, no source tree). A build that makes no site fails
 * naming the folders it looked in. Everything made here carries kiln.test=1 and a label of this
 * run and is removed at the end; the shared static and node base images are kept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newId } from "../../src/core/ids.ts";
import { StepError } from "../../src/core/errors.ts";
import type { BuildInput } from "../../src/core/ports/builder.ts";
import { defaultPackDir, loadDockerignore, withFilesInFront } from "../../src/adapters/builders/build-context.ts";
import { detectApp } from "../../src/adapters/builders/detect.ts";
import { generateDockerfile } from "../../src/adapters/builders/dockerfile-gen.ts";
import { ALWAYS_IGNORED, KilnBuilder, SOURCE_DIR, type KilnBuildOutput } from "../../src/adapters/builders/kiln-builder.ts";
import type { AppPlan } from "../../src/adapters/builders/plan.ts";
import { staticCaddyfile } from "../../src/adapters/builders/static-caddyfile.ts";
import { staticContextFiles } from "../../src/adapters/builders/static-site.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { RuntimeImages } from "../../src/adapters/docker/runtime-images.ts";
import { run as runCommand } from "../../src/adapters/exec/run.ts";
import { readTar } from "../../src/formats/tar/reader.ts";
import { removeLabelled, serveImage } from "../helpers/served-image.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/apps");
const SOCKET = "/var/run/docker.sock";
const RUN = newId(8);
const LABELS = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.run": `static-${RUN}` };
const RUN_LABEL = { "kiln.test.run": LABELS["kiln.test.run"] };
const IMMUTABLE = "public, max-age=31536000, immutable";

const runtime = new DockerEngine();
const images = new RuntimeImages({ runtime });
const builder = new KilnBuilder({ runtime, baseImage: (req) => images.resolve(req) });
const temp = mkdtempSync(join(tmpdir(), "kiln-static-sites-"));

beforeAll(() => runtime.ping());

afterAll(async () => {
  await removeLabelled(runtime, RUN_LABEL);
  rmSync(temp, { recursive: true, force: true });
});

function input(app: string, n: number, lines: string[], over: Partial<BuildInput> = {}): BuildInput {
  return {
    deploymentId: `test-${app}`,
    buildId: `${RUN}-${n}`,
    srcDir: join(FIXTURES, app),
    tag: `kiln/test-static-${app}:${RUN}-${n}`,
    labels: LABELS,
    secrets: {},
    log: (_stream, text) => lines.push(text),
    ...over,
  };
}

async function build(app: string, n: number): Promise<KilnBuildOutput & { lines: string[] }> {
  const lines: string[] = [];
  try {
    return { ...(await builder.build(input(app, n, lines))), lines };
  } catch (err) {
    console.log(lines.join("\n"));
    throw err;
  }
}

/** A hand-made plan built the way KilnBuilder builds one: generated Dockerfile and Caddyfile in front of the packed tree. */
async function buildPlan(app: string, plan: AppPlan, tag: string): Promise<string> {
  const srcDir = join(FIXTURES, app);
  const kilnDir = ".kiln";
  const dockerfile = generateDockerfile(plan, { images: { build: (await images.resolve(plan.buildImage)).ref, run: (await images.resolve(plan.runImage)).ref }, kilnDir, sourceDir: SOURCE_DIR });
  const packed = await defaultPackDir(srcDir, { ignore: await loadDockerignore(srcDir, ALWAYS_IGNORED), prefix: SOURCE_DIR });
  const lines: string[] = [];
  await runtime
    .buildImage({
      context: withFilesInFront({ [`${kilnDir}/Dockerfile`]: dockerfile, ...staticContextFiles(plan, kilnDir) }, packed),
      dockerfile: `${kilnDir}/Dockerfile`,
      tag,
      labels: LABELS,
      onLine: (line) => lines.push(line),
    })
    .catch((err) => {
      console.log(lines.join("\n"));
      throw err;
    });
  return tag;
}

/** Run the image with its port on 127.0.0.1: its URL, and its container's id. */
async function serve(image: string, name: string): Promise<{ url: string; id: string }> {
  const full = `kiln-test-static-${RUN}-${name}`;
  const url = await serveImage(runtime, { image, port: 3000, name: full, labels: LABELS });
  const container = (await runtime.listContainers(RUN_LABEL)).find((c) => c.name === full);
  return { url, id: container!.id };
}

/** Raw Engine API, for what the runtime port does not expose. */
function engine(path: string): Promise<Response> {
  return fetch(`http://docker/v1.41${path}`, { unix: SOCKET } as RequestInit);
}

/** Each process in the container as [uid, command], as the host's ps sees them (docker-init first, then caddy). */
async function processes(id: string): Promise<string[][]> {
  const res = await engine(`/containers/${id}/top?ps_args=${encodeURIComponent("-o pid,uid,comm")}`);
  const top = (await res.json()) as { Titles: string[]; Processes: string[][] };
  const [uid, comm] = [top.Titles.indexOf("UID"), top.Titles.indexOf("COMMAND")];
  return top.Processes.map((p) => [p[uid]!, p[comm]!]);
}

/** Every path in every layer of the image (docker save): a superset of what its containers see. */
async function imagePaths(ref: string): Promise<string[]> {
  const res = await engine(`/images/${encodeURIComponent(ref)}/get`);
  const paths: string[] = [];
  for await (const item of readTar(res.body!)) {
    if (!item.entry.path.endsWith("layer.tar")) continue;
    for await (const inner of readTar(await item.bytes())) paths.push(inner.entry.path.replace(/\/$/, ""));
  }
  return [...new Set(paths)];
}

const get = (url: string, init: RequestInit & { decompress?: boolean } = {}) => fetch(url, { redirect: "manual", ...init } as RequestInit);

describe("the Caddyfile on the host's Caddy", () => {
  test("both variants, plain and SPA, pass `caddy validate --adapter caddyfile`", async () => {
    for (const spa of [false, true]) {
      const file = join(temp, `Caddyfile-${spa ? "spa" : "plain"}`);
      writeFileSync(file, staticCaddyfile({ root: temp, spa, port: 3000 }));
      const out: string[] = [];
      const res = await runCommand(
        { argv: ["caddy", "validate", "--adapter", "caddyfile", "--config", file], env: { HOME: temp } },
        { onLine: (_s, l) => out.push(l), timeoutMs: 30_000 },
      );
      expect([spa, res.code, out.at(-1)]).toEqual([spa, 0, "Valid configuration"]);
    }
  });
});

describe("static sites served by Caddy", () => {
  test("plain fixture: no Node.js anywhere, the site alone in /srv, served with revalidation, a bare 404, caddy as uid 1000", async () => {
    const built = await build("static", 1);
    expect(built.lines).toContain("kiln: detected: static site → serve `./`");
    expect(built.lines.some((l) => /node-runtime|bun-runtime/.test(l))).toBe(false);

    const { url, id } = await serve(built.image, "plain");
    const page = await get(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(await page.text()).toContain("hello from a static site");
    const css = await get(`${url}/style.css`);
    expect([css.status, css.headers.get("content-type")]).toEqual([200, "text/css; charset=utf-8"]);
    expect(await css.text()).toContain("font-family");
    const missing = await get(`${url}/no/such/page`);
    expect([missing.status, await missing.text()]).toEqual([404, "404 Not Found"]);
    const kiln = await get(`${url}/.kiln/Dockerfile`);
    expect([kiln.status, await kiln.text()]).toEqual([404, "404 Not Found"]);

    expect(await processes(id)).toEqual([["1000", "docker-init"], ["1000", "caddy"]]);
    const paths = await imagePaths(built.image);
    expect(paths.filter((p) => p.startsWith("srv")).sort()).toEqual(["srv", "srv/index.html", "srv/style.css"]);
    expect(paths).toContain("usr/bin/caddy");
    expect(paths).toContain("etc/caddy/Caddyfile");
    expect(paths.filter((p) => /(^|\/)node$/.test(p) || p.includes(".kiln") || (p.startsWith("app/") && p !== "app"))).toEqual([]);
  }, 240_000);

  describe("static-built: a build script writing dist/ (detected as a static site)", () => {
    let site: { url: string; id: string; image: string; lines: string[] };

    beforeAll(async () => {
      const built = await build("static-built", 2);
      const served = await serve(built.image, "built");
      site = { ...served, image: built.image, lines: built.lines };
    }, 240_000);

    test("built on Node.js, served from the static image", () => {
      expect(site.lines.some((l) => l.startsWith("kiln: detected: static site (npm") && l.endsWith("serve `dist/`"))).toBe(true);
      expect(site.lines.some((l) => / FROM docker\.io\/kiln\/node-runtime:\d+-host$/.test(l))).toBe(true);
      expect(site.lines.some((l) => / FROM docker\.io\/kiln\/static-runtime:[\w.-]+-host$/.test(l))).toBe(true);
    });

    test("the index and a folder's index (no-cache); /about redirects to /about/", async () => {
      const index = await get(`${site.url}/`);
      expect([index.status, index.headers.get("cache-control")]).toEqual([200, "no-cache"]);
      expect(await index.text()).toContain("hello from a built static site");
      const about = await get(`${site.url}/about/`);
      expect([about.status, about.headers.get("cache-control")]).toEqual([200, "no-cache"]);
      expect(await about.text()).toContain("about this built site");
      const bare = await get(`${site.url}/about`);
      await bare.arrayBuffer();
      expect([bare.status, bare.headers.get("location")]).toEqual([308, "/about/"]);
    });

    test("a fingerprinted asset is immutable for a year; compressed with gzip or zstd when asked", async () => {
      const asset = `${site.url}/assets/app-3f9a8b7c.js`;
      const plain = await get(asset, { headers: { "Accept-Encoding": "identity" } });
      expect([plain.status, plain.headers.get("cache-control"), plain.headers.get("content-encoding")]).toEqual([200, IMMUTABLE, null]);
      const text = await plain.text();
      expect(text).toStartWith('console.log("hello from a fingerprinted asset");');

      const gz = await get(asset, { headers: { "Accept-Encoding": "gzip" }, decompress: false });
      expect([gz.headers.get("content-encoding"), gz.headers.get("cache-control")]).toEqual(["gzip", IMMUTABLE]);
      const gzBytes = new Uint8Array(await gz.arrayBuffer());
      expect(gzBytes.length).toBeLessThan(text.length);
      expect(new TextDecoder().decode(Bun.gunzipSync(gzBytes))).toBe(text);

      const zst = await get(asset, { headers: { "Accept-Encoding": "zstd" }, decompress: false });
      expect(zst.headers.get("content-encoding")).toBe("zstd");
      expect(new TextDecoder().decode(Bun.zstdDecompressSync(new Uint8Array(await zst.arrayBuffer())))).toBe(text);
    });

    test("a missing path is a 404 answered with the site's 404.html", async () => {
      const missing = await get(`${site.url}/no/such/page`);
      expect([missing.status, missing.headers.get("cache-control")]).toEqual([404, "no-cache"]);
      expect(await missing.text()).toContain("this built site has no such page");
      const missingAsset = await get(`${site.url}/assets/gone-3f9a8b7c.js`);
      expect([missingAsset.status, missingAsset.headers.get("cache-control")]).toEqual([404, "no-cache"]);
      await missingAsset.arrayBuffer();
    });

    test("a dotfile is not served, nor a link leading out of the site; a link inside it is", async () => {
      const env = await get(`${site.url}/.env`);
      const envBody = await env.text();
      expect(env.status).toBe(404);
      expect(envBody).not.toContain("SECRET");
      const environ = await get(`${site.url}/environ`);
      expect(environ.status).toBe(404);
      await environ.arrayBuffer();
      const home = await get(`${site.url}/home.html`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain("hello from a built static site");
    });

    test("caddy runs as uid 1000; the image holds the built site alone: no source tree, no node", async () => {
      expect(await processes(site.id)).toEqual([["1000", "docker-init"], ["1000", "caddy"]]);
      const paths = await imagePaths(site.image);
      expect(paths.filter((p) => p.startsWith("srv")).sort()).toEqual([
        "srv",
        "srv/.env",
        "srv/404.html",
        "srv/about",
        "srv/about/index.html",
        "srv/assets",
        "srv/assets/app-3f9a8b7c.js",
        "srv/home.html",
        "srv/index.html",
      ]);
      expect(paths.filter((p) => /(^|\/)node$/.test(p) || /(^|\/)(package\.json|build\.js|node_modules)$/.test(p) || p.includes(".kiln") || (p.startsWith("app/") && p !== "app"))).toEqual([]);
    });
  });

  test("static-built as an SPA: a path naming no file answers index.html; folder indexes, assets and hidden files as before", async () => {
    const plan = await detectApp(join(FIXTURES, "static-built"));
    expect(plan.kind).toBe("static");
    plan.serve = { ...plan.serve!, spa: true };
    const image = await buildPlan("static-built", plan, `kiln/test-static-spa:${RUN}`);
    const { url } = await serve(image, "spa");

    const route = await get(`${url}/users/42/settings`);
    expect([route.status, route.headers.get("cache-control")]).toEqual([200, "no-cache"]);
    expect(await route.text()).toContain("hello from a built static site");
    const about = await get(`${url}/about/`);
    expect(await about.text()).toContain("about this built site");
    const asset = await get(`${url}/assets/app-3f9a8b7c.js`);
    expect(asset.headers.get("cache-control")).toBe(IMMUTABLE);
    await asset.arrayBuffer();
    const env = await get(`${url}/.env`);
    expect(env.status).toBe(404);
    expect(await env.text()).not.toContain("SECRET");
  }, 240_000);

  test("a build that makes no site fails, naming the folders it looked in and what to do", async () => {
    const lines: string[] = [];
    const err = await builder.build(input("static-built", 3, lines, { buildCommand: "echo the build writes nothing" })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toBe("no site to serve: the build made no index.html in dist/, build/, out/, public/ or _site/");
    expect((err as StepError).hint).toContain("settings.buildCommand");
    expect(lines).toContain("kiln: no site to serve: the build made no index.html in dist/, build/, out/, public/ or _site/");
  }, 240_000);
});
