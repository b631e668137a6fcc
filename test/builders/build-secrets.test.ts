/**
 * Build-time secrets against the real Docker engine: both Engine-API builders hand them to
 * BuildKit over a session (POST /session, then /build?session=…), never as build args. Each app
 * writes sha256 of the secret into the image, so the test proves the build saw the value; then
 * the image's history and a `docker save` export of all its layers (every byte) are searched for
 * the value itself. The engine is reached through a recording unix-socket relay, so the tests
 * also see which requests were made (a build without secrets opens no session).
 *
 * Local base image only (Kiln's node base, made from the host's node); everything made here
 * carries a label unique to this run and is removed at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DockerfileBuilder } from "../../src/adapters/builders/dockerfile-builder.ts";
import { KilnBuilder } from "../../src/adapters/builders/kiln-builder.ts";
import { ensureNodeBaseImage } from "../../src/adapters/docker/base-image.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import type { BuildInput } from "../../src/core/ports/builder.ts";
import { newId } from "../../src/core/ids.ts";
import { Secret } from "../../src/core/secret.ts";
import { readTarEntries } from "../../src/formats/tar/reader.ts";

const DOCKER = "/var/run/docker.sock";
const RUN = newId(8);
const LABELS = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.run": `build-secrets-${RUN}` };
const SECRET_VALUE = `kiln-build-secret-${randomBytes(16).toString("hex")}`;
const SECRET_HASH = createHash("sha256").update(SECRET_VALUE).digest("hex");

const work = mkdtempSync(join(tmpdir(), "kiln-build-secrets-"));
const relayPath = join(work, "docker.sock");
/** Request lines ("POST /v1.41/build?…") seen on the relay since the last reset. */
let requests: string[] = [];
let relay: net.Server;
const sockets = new Set<net.Socket>();
/** Client connections that carried a POST /session, and whether each has closed. */
let sessionConns: { closed: boolean }[] = [];
const runtime = new DockerEngine({ socketPath: relayPath });
let base = "";

/** A unix socket that forwards to dockerd and records each HTTP request line it carries. */
function startRelay(): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.createConnection(DOCKER);
    sockets.add(client).add(upstream);
    const conn = { closed: false };
    client.on("close", () => (conn.closed = true));
    client.on("data", (chunk: Buffer) => {
      for (const m of chunk.toString("latin1").matchAll(/^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.1\r$/gm)) {
        requests.push(`${m[1]} ${m[2]}`);
        if (m[2]!.endsWith("/session")) sessionConns.push(conn);
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => client.write(chunk));
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on("end", () => b.end());
      a.on("error", () => b.destroy());
      a.on("close", () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  return new Promise((resolve) => server.listen(relayPath, () => resolve(server)));
}

function tree(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function input(srcDir: string, tag: string, secrets: Record<string, Secret>): BuildInput & { lines: string[] } {
  const lines: string[] = [];
  return { deploymentId: "test-secrets", buildId: RUN, srcDir, tag, labels: LABELS, secrets, lines, log: (_s, text) => lines.push(text) };
}

async function engineJson<T>(path: string): Promise<T> {
  const res = await fetch(`http://docker/v1.41${path}`, { unix: DOCKER } as RequestInit);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** `docker save` of the image: a tar of the image's config, manifest and one tar per layer. */
async function saveImage(tag: string): Promise<Uint8Array> {
  const res = await fetch(`http://docker/v1.41/images/${encodeURIComponent(tag)}/get`, { unix: DOCKER } as RequestInit);
  if (!res.ok) throw new Error(`export ${tag}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A file's text from the topmost layer of a saved image that has it (path without the leading /). */
async function fileInImage(saved: Uint8Array, path: string): Promise<string | null> {
  const outer = await readTarEntries(saved);
  const manifest = JSON.parse(new TextDecoder().decode(outer.find((e) => e.entry.path === "manifest.json")!.data)) as { Layers: string[] }[];
  for (const layer of [...manifest[0]!.Layers].reverse()) {
    const tar = outer.find((e) => e.entry.path === layer)!.data;
    const hit = (await readTarEntries(tar)).find((e) => e.entry.path === path);
    if (hit) return new TextDecoder().decode(hit.data);
  }
  return null;
}

/** The proof: the build saw the value (its hash is in the image); the value is in no layer and not in the history. */
async function expectSeenButNotStored(tag: string, hashFile: string): Promise<void> {
  const saved = await saveImage(tag);
  expect(saved.length).toBeGreaterThan(1_000_000); // the whole image, base layers included
  expect((await fileInImage(saved, hashFile))?.trim().split(/\s+/)[0]).toBe(SECRET_HASH);
  expect(Buffer.from(saved).indexOf(SECRET_VALUE)).toBe(-1);
  expect(Buffer.from(saved).indexOf(Buffer.from(SECRET_VALUE).toString("base64").slice(0, 24))).toBe(-1);
  const history = JSON.stringify(await engineJson(`/images/${encodeURIComponent(tag)}/history`));
  expect(history).not.toContain(SECRET_VALUE);
  const inspect = JSON.stringify(await engineJson(`/images/${encodeURIComponent(tag)}/json`));
  expect(inspect).not.toContain(SECRET_VALUE);
}

/** Every session connection opened so far is closed (bounded wait: the close is async). */
async function expectSessionsClosed(): Promise<void> {
  const deadline = Date.now() + 3000;
  while (sessionConns.some((c) => !c.closed) && Date.now() < deadline) await Bun.sleep(20);
  expect(sessionConns.length).toBeGreaterThan(0);
  expect(sessionConns.filter((c) => !c.closed)).toEqual([]);
}

function expectSessionBuild(): void {
  const session = requests.find((r) => /^POST \/v1\.41\/session$/.test(r));
  expect(session).toBeDefined();
  const build = requests.find((r) => r.startsWith("POST /v1.41/build?"))!;
  expect(new URL(`http://x${build.slice(5)}`).searchParams.get("session")).toMatch(/^[0-9a-z]{25}$/);
  expect(build).not.toContain(SECRET_VALUE);
  expect(new URL(`http://x${build.slice(5)}`).searchParams.get("buildargs")).toBe("{}");
}

beforeAll(async () => {
  relay = await startRelay();
  await runtime.ping();
  base = await ensureNodeBaseImage(runtime);
}, 300_000);

afterAll(async () => {
  for (const img of await runtime.listImages({ "kiln.test.run": LABELS["kiln.test.run"] })) {
    for (const tag of img.tags) await runtime.removeImage(tag);
    if (img.tags.length === 0) await runtime.removeImage(img.id);
  }
  for (const s of sockets) s.destroy();
  relay?.close();
  rmSync(work, { recursive: true, force: true });
});

describe("build-time secrets reach builds as BuildKit secrets", () => {
  test("zero-config builder: `npm run build` sees API_TOKEN in process.env; the value is in no layer and not in the history; a new value reruns the build", async () => {
    const src = tree("node-app", {
      "package.json": JSON.stringify({ name: "secret-app", version: "1.0.0", scripts: { build: "node build.js", start: "node server.js" } }),
      "build.js": [
        `const token = process.env.API_TOKEN;`,
        `if (!token) { console.error("API_TOKEN is not set"); process.exit(1); }`,
        `require("fs").writeFileSync("/app/token.sha256", require("crypto").createHash("sha256").update(token).digest("hex"));`,
      ].join("\n"),
      "server.js": `require("http").createServer((q, s) => s.end("ok")).listen(process.env.PORT);`,
    });
    const tag = `kiln/test-build-secrets-kiln:${RUN}`;
    const inp = input(src, tag, { API_TOKEN: new Secret(SECRET_VALUE) });
    requests = [];
    try {
      await new KilnBuilder({ runtime, baseImage: async () => base }).build(inp);
    } catch (err) {
      console.log(inp.lines.join("\n"));
      throw err;
    }
    expect(inp.lines).toContain("kiln: build-time secrets available as env vars to the install, build and prune steps (not stored in the image): API_TOKEN");
    expect(inp.lines.join("\n")).not.toContain(SECRET_VALUE);
    expect(inp.lines.some((l) => l.includes("--mount=type=secret,id=API_TOKEN,required=true") && l.includes("npm run build"))).toBe(true);
    expectSessionBuild();
    await expectSessionsClosed();
    await expectSeenButNotStored(tag, "app/token.sha256");
    const saved = Buffer.from(await saveImage(tag));
    expect(saved.indexOf("secrets.sha256")).toBe(-1); // the cache-key digest stays out of the app's image

    // The same app with another value: the build step runs again (not served from the cache) and sees it.
    const other = `kiln-other-secret-${randomBytes(16).toString("hex")}`;
    const again = input(src, `${tag}-again`, { API_TOKEN: new Secret(other) });
    await new KilnBuilder({ runtime, baseImage: async () => base }).build(again);
    expect(again.lines.some((l) => l.includes("npm run build") && l.endsWith(" CACHED"))).toBe(false);
    const hash = await fileInImage(await saveImage(`${tag}-again`), "app/token.sha256");
    expect(hash).toBe(createHash("sha256").update(other).digest("hex"));
  }, 240_000);

  test("the app's own Dockerfile reads /run/secrets/API_TOKEN; the value is in no layer and not in the history", async () => {
    const src = tree("dockerfile-app", {
      Dockerfile: [
        `FROM ${base}`,
        // BuildKit's cache ignores secret values (the user's Dockerfile is built as written): a per-run ENV keeps an earlier run's layer out.
        `ENV KILN_TEST_RUN=${RUN}`,
        `RUN --mount=type=secret,id=API_TOKEN sh -c 'sha256sum /run/secrets/API_TOKEN > /hash'`,
        `RUN sh -c 'test ! -e /run/secrets/API_TOKEN'`, // only mounted into the step that asks for it
        "",
      ].join("\n"),
    });
    const tag = `kiln/test-build-secrets-dockerfile:${RUN}`;
    const inp = input(src, tag, { API_TOKEN: new Secret(SECRET_VALUE) });
    requests = [];
    try {
      await new DockerfileBuilder({ runtime }).build(inp);
    } catch (err) {
      console.log(inp.lines.join("\n"));
      throw err;
    }
    expect(inp.lines).toContain("kiln: build-time secrets available to RUN --mount=type=secret,id=NAME (read from /run/secrets/NAME): API_TOKEN");
    expect(inp.lines.join("\n")).not.toContain(SECRET_VALUE);
    expectSessionBuild();
    await expectSessionsClosed();
    await expectSeenButNotStored(tag, "hash");
  }, 240_000);

  test("a secret the build asks for but was not given fails the step (required=true), naming it", async () => {
    const src = tree("missing-app", {
      Dockerfile: `FROM ${base}\nRUN --mount=type=secret,id=OTHER,required=true cat /run/secrets/OTHER\n`,
    });
    const inp = input(src, `kiln/test-build-secrets-missing:${RUN}`, { API_TOKEN: new Secret(SECRET_VALUE) });
    const err = await new DockerfileBuilder({ runtime }).build(inp).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("OTHER");
    expect((err as Error).message).not.toContain(SECRET_VALUE);
    await expectSessionsClosed();
  }, 120_000);

  test("an aborted build closes its session", async () => {
    const src = tree("slow-app", { Dockerfile: `FROM ${base}\nRUN --mount=type=secret,id=API_TOKEN sh -c 'sleep 30'\n` });
    const inp = input(src, `kiln/test-build-secrets-slow:${RUN}`, { API_TOKEN: new Secret(SECRET_VALUE) });
    const abort = new AbortController();
    sessionConns = [];
    const started = Date.now();
    const build = new DockerfileBuilder({ runtime }).build({ ...inp, signal: abort.signal }).catch((e: Error) => e);
    const deadline = Date.now() + 20_000;
    while (!inp.lines.some((l) => l.includes("sleep 30")) && Date.now() < deadline) await Bun.sleep(50);
    expect(sessionConns.length).toBe(1);
    abort.abort(new Error("deploy cancelled"));
    expect(((await build) as Error).message).toBe("deploy cancelled");
    expect(Date.now() - started).toBeLessThan(25_000);
    await expectSessionsClosed();
  }, 60_000);

  test("a build without secrets still works, and opens no session", async () => {
    const src = tree("plain-app", { Dockerfile: `FROM ${base}\nRUN sh -c 'echo plain > /plain'\n` });
    const tag = `kiln/test-build-secrets-plain:${RUN}`;
    const inp = input(src, tag, {});
    requests = [];
    await new DockerfileBuilder({ runtime }).build(inp);
    expect(inp.lines.some((l) => l.includes("build-time secrets"))).toBe(false);
    expect(requests.some((r) => r.includes("/session"))).toBe(false);
    const build = requests.find((r) => r.startsWith("POST /v1.41/build?"))!;
    expect(build).toBeDefined();
    expect(build).not.toContain("session=");
    expect((await fileInImage(await saveImage(tag), "plain"))?.trim()).toBe("plain");
  }, 120_000);
});
