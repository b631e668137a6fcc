/**
 * Deploy benchmark: examples/hello-node from tarball upload to the first 200 through Caddy,
 * cold (BuildKit cache pruned) and cached, beside the same work done by hand in the same run:
 * an Engine API build of an equivalent Dockerfile, create + start, and polling the container's
 * published 127.0.0.1 port until it answers 200. Printed as ratios (Kiln / by hand).
 *
 * Then the corpus (bench/corpus-table.ts): every corpus app from a tarball and from git, with its
 * time and whether it did what the corpus says.
 *
 *   bun bench/deploy.bench.ts [--rounds 3] [--no-corpus] [--only app,app]
 */
import { join } from "node:path";
import { startTestKiln, tarOf } from "../test/helpers/kiln.ts";
import { encodeTar } from "../src/formats/tar/writer.ts";
import { ensureNodeBaseImage } from "../src/adapters/docker/base-image.ts";
import { corpusTable } from "./corpus-table.ts";

const SOCKET = "/var/run/docker.sock";
const HELLO = join(import.meta.dir, "../examples/hello-node");
const rounds = process.argv.includes("--rounds") ? Number(process.argv[process.argv.indexOf("--rounds") + 1]) : 3;
const withCorpus = !process.argv.includes("--no-corpus");
const only = process.argv.includes("--only") ? (process.argv[process.argv.indexOf("--only") + 1] ?? "").split(",").filter(Boolean) : [];
const POLL_LIMIT_MS = 120_000;

const engine = (path: string, init: RequestInit = {}) => fetch(`http://docker/v1.41${path}`, { ...init, unix: SOCKET } as RequestInit);

async function pruneBuildCache(): Promise<void> {
  const res = await engine("/build/prune?all=1", { method: "POST" });
  await res.text();
}

/** Poll until GET answers 200; bounded in time and count. */
async function firstOk(url: string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  for (let i = 0; Date.now() < deadline && i < 20_000; i++) {
    const r = await fetch(url, { headers }).catch(() => null);
    if (r) await r.text();
    if (r?.status === 200) return;
    await Bun.sleep(25);
  }
  throw new Error(`no 200 from ${url}`);
}

/**
 * What Kiln adds to a container beyond `docker run -p`: its own network (apps isolated from the
 * default bridge) and the hardening of every app container. The second baseline carries them, to
 * show how much of the ratio is that isolation rather than Kiln's own overhead.
 */
function kilnLikeHostConfig(network: string): Record<string, unknown> {
  return {
    NetworkMode: network,
    Init: true,
    CapDrop: ["ALL"],
    SecurityOpt: ["no-new-privileges:true"],
    Memory: 512 * 1024 * 1024,
    PidsLimit: 256,
    NanoCpus: 1e9,
    LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
  };
}

/** The same work by hand: build, create, start, first 200 on the published port. */
async function byHand(baseImage: string, tag: string, hostConfig: Record<string, unknown> = {}): Promise<number> {
  const files = [
    { path: "Dockerfile", type: "file" as const, data: `FROM ${baseImage}\nWORKDIR /app\nCOPY package.json server.js ./\nENV PORT=3000\nEXPOSE 3000\nCMD ["node","server.js"]\n` },
    { path: "package.json", type: "file" as const, data: await Bun.file(join(HELLO, "package.json")).text() },
    { path: "server.js", type: "file" as const, data: await Bun.file(join(HELLO, "server.js")).text() },
  ];
  const t0 = performance.now();
  const build = await engine(`/build?version=2&t=${encodeURIComponent(tag)}&labels=${encodeURIComponent(JSON.stringify({ "kiln.managed": "true", "kiln.bench": "1" }))}`, {
    method: "POST",
    body: encodeTar(files),
    headers: { "content-type": "application/x-tar" },
  });
  const out = await build.text();
  if (out.includes('"errorDetail"')) throw new Error(`manual build failed: ${out.slice(-400)}`);
  const create = await engine(`/containers/create?name=kiln-bench-${Date.now()}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      Image: tag,
      Labels: { "kiln.managed": "true", "kiln.bench": "1" },
      ExposedPorts: { "3000/tcp": {} },
      HostConfig: { PortBindings: { "3000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] }, ...hostConfig },
    }),
  });
  const { Id } = (await create.json()) as { Id: string };
  await (await engine(`/containers/${Id}/start`, { method: "POST" })).text();
  const info = (await (await engine(`/containers/${Id}/json`)).json()) as any;
  const port = info.NetworkSettings.Ports["3000/tcp"][0].HostPort;
  await firstOk(`http://127.0.0.1:${port}/`);
  const ms = performance.now() - t0;
  await (await engine(`/containers/${Id}?force=1`, { method: "DELETE" })).text();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const kiln = await startTestKiln();
try {
  const baseImage = await ensureNodeBaseImage(kiln.runtime, { preferred: kiln.config.nodeImage });
  const tar = await tarOf(HELLO, true);

  async function viaKiln(name: string): Promise<number> {
    const t0 = performance.now();
    const res = await kiln.api(`/deployments/upload?name=${name}`, { method: "POST", body: tar });
    if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
    await firstOk(`http://127.0.0.1:${kiln.publicPort}/`, { host: `${name}.localhost` });
    return performance.now() - t0;
  }

  const results = { kilnCold: [] as number[], handCold: [] as number[], kilnCached: [] as number[], handCached: [] as number[], isolatedCold: [] as number[], isolatedCached: [] as number[] };
  const isolated = kilnLikeHostConfig(kiln.config.dockerNetwork);
  for (let r = 0; r < rounds; r++) {
    await pruneBuildCache();
    results.handCold.push(await byHand(baseImage, `kiln-bench/hand:${r}`));
    await pruneBuildCache();
    results.kilnCold.push(await viaKiln(`bench-cold-${r}`));
    results.handCached.push(await byHand(baseImage, `kiln-bench/hand:${r}c`));
    results.kilnCached.push(await viaKiln(`bench-warm-${r}`));
    await pruneBuildCache();
    results.isolatedCold.push(await byHand(baseImage, `kiln-bench/iso:${r}`, isolated));
    results.isolatedCached.push(await byHand(baseImage, `kiln-bench/iso:${r}c`, isolated));
  }

  if (rounds > 0) {
    console.log(`deploy benchmark: examples/hello-node, tarball → first 200 (${rounds} rounds, medians)`);
    console.log(`  cold   kiln ${fmt(median(results.kilnCold))}   by hand ${fmt(median(results.handCold))}   ratio ${(median(results.kilnCold) / median(results.handCold)).toFixed(2)}x`);
    console.log(`  cached kiln ${fmt(median(results.kilnCached))}   by hand ${fmt(median(results.handCached))}   ratio ${(median(results.kilnCached) / median(results.handCached)).toFixed(2)}x`);
    const iso = (k: number[], h: number[]) => `${fmt(median(h))}   ratio ${(median(k) / median(h)).toFixed(2)}x`;
    console.log(`  beside the same work by hand on Kiln's network with its hardening (what isolation costs):`);
    console.log(`  cold   by hand, isolated ${iso(results.kilnCold, results.isolatedCold)}`);
    console.log(`  cached by hand, isolated ${iso(results.kilnCached, results.isolatedCached)}`);
    console.log(`  raw (ms): ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map(Math.round)])))}`);
  }
  if (withCorpus) {
    const table = await corpusTable(kiln, only);
    for (const line of table.lines) console.log(line);
    if (table.failed > 0) process.exitCode = 1;
  }
} finally {
  await kiln.stop();
  const imgs = (await (await engine(`/images/json?filters=${encodeURIComponent(JSON.stringify({ label: ["kiln.bench=1"] }))}`)).json()) as { Id: string }[];
  for (const img of imgs) await (await engine(`/images/${img.Id}?force=1`, { method: "DELETE" })).text();
}
