/**
 * Kiln's own registry (Debian's docker-registry, run by LocalRegistry on loopback) keeps what the
 * engine keeps. Images are put into it through the Distribution API itself (no engine needed: a
 * config blob, a layer blob and a manifest per tag). Pruning deletes the app tags whose image the
 * engine no longer has, never a digest a kept tag also names, never another repository; the next
 * start of the registry reclaims the deleted images' blobs from disk.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalRegistry } from "../../src/adapters/swarm/registry.ts";
import { pruneRegistry, RegistryHttp } from "../../src/adapters/swarm/registry-prune.ts";
import { freeLoopbackPort } from "../../src/adapters/net/loopback-port.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-registry-prune-"));
const logs: string[] = [];
const registry = new LocalRegistry({ dataDir: dir, port: freeLoopbackPort(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, log: (l) => logs.push(l) });
const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const blobPath = (digest: string) => join(dir, "registry", "data", "docker", "registry", "v2", "blobs", "sha256", digest.slice(7, 9), digest.slice(7), "data");

async function putBlob(repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha(bytes);
  const start = await fetch(`http://${registry.address}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await start.arrayBuffer();
  const location = new URL(start.headers.get("location")!, `http://${registry.address}`);
  location.searchParams.set("digest", digest);
  const res = await fetch(location, { method: "PUT", body: bytes, headers: { "content-type": "application/octet-stream" } });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`blob upload: ${res.status}`);
  return digest;
}

/** An image whose one layer holds `content`; returns its manifest digest and layer digest. */
async function putImage(repo: string, tag: string, content: string): Promise<{ manifest: string; layer: string }> {
  const layerBytes = new TextEncoder().encode(content);
  const configBytes = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(layerBytes)] } }));
  const layer = await putBlob(repo, layerBytes);
  const config = await putBlob(repo, configBytes);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: configBytes.length, digest: config },
    layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layerBytes.length, digest: layer }],
  });
  const res = await fetch(`http://${registry.address}/v2/${repo}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { "content-type": "application/vnd.docker.distribution.manifest.v2+json" } });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`manifest put: ${res.status}`);
  return { manifest: res.headers.get("docker-content-digest")!, layer };
}

beforeAll(async () => {
  await registry.start();
}, 60_000);
afterAll(async () => {
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("only app tags whose image the engine no longer has go; a shared digest and other repositories stay; the blobs go at the next start", async () => {
  const kept = await putImage("kiln/app-web", "b1", "release one");
  const old = await putImage("kiln/app-web", "b0", "release zero");
  const twin = await putImage("kiln/app-web", "b2", "release one"); // same content as b1: the same digest
  const other = await putImage("someone/else", "v1", "not kiln's");
  expect(twin.manifest).toBe(kept.manifest);
  const local = new Set(["kiln/app-web:b1"]); // garbage collection removed b0 and b2 from the engine

  const reg = new RegistryHttp(registry.address);
  const deleted = await pruneRegistry(reg, async (image) => local.has(image));
  expect(deleted).toEqual(["kiln/app-web:b0"]); // b2 names b1's digest, which stays
  expect(await reg.digest("kiln/app-web", "b0")).toBeNull();
  expect(await reg.digest("kiln/app-web", "b1")).toBe(kept.manifest);
  expect(await reg.digest("someone/else", "v1")).toBe(other.manifest);
  expect(await pruneRegistry(reg, async (image) => local.has(image))).toEqual([]); // nothing more to do

  // Deleting a manifest leaves its blobs; the registry's next start collects them.
  expect(existsSync(blobPath(old.layer))).toBe(true);
  await registry.stop();
  await registry.start();
  expect(existsSync(blobPath(old.layer))).toBe(false);
  expect(existsSync(blobPath(kept.layer))).toBe(true);
  expect(existsSync(blobPath(other.layer))).toBe(true);
  expect(await reg.digest("kiln/app-web", "b1")).toBe(kept.manifest);
}, 120_000);
