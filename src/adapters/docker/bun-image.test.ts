import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RuntimeRequest } from "../builders/plan.ts";
import { bunBaseLabels, bunImageChanges, bunRootfsEntries, bunRuntimeRef, ensureHostBunImage, probeHostBun, resolveBunImage, type HostBun } from "./bun-image.ts";
import type { HostNode } from "./host-node.ts";
import type { RootfsEntry } from "./rootfs-tar.ts";
import { fakeHost, fakeImageRuntime } from "./testdata/fake-image-runtime.ts";

const HOST_REF = "kiln/bun-runtime:1.4.5-host";

async function choose(req: Omit<RuntimeRequest, "name">, world: { local?: string[]; pullable?: string[] } = {}) {
  const runtime = fakeImageRuntime(world);
  const got = await resolveBunImage({ name: "bun", ...req }, { runtime, host: fakeHost("1.4.5", 1, HOST_REF, runtime.calls) });
  return { ...got, calls: runtime.calls };
}

describe("resolveBunImage", () => {
  test("no version: oven/bun:1 when it is local; the host is not probed", async () => {
    expect(await choose({}, { local: ["oven/bun:1"] })).toEqual({ ref: "oven/bun:1", calls: ["exists oven/bun:1"] });
  });

  test('"packageManager": "bun@1.2.3": oven/bun:1.2.3, pulled when a registry gives it', async () => {
    const got = await choose({ version: "1.2.3" }, { pullable: ["oven/bun:1.2.3"] });
    expect(got).toEqual({ ref: "oven/bun:1.2.3", calls: ["exists oven/bun:1.2.3", "pull oven/bun:1.2.3", "exists oven/bun:1.2.3"] });
  });

  test("no official image: the host's, without a warning when the major is the same", async () => {
    expect(await choose({ version: "1.2.3" })).toEqual({
      ref: HOST_REF,
      calls: ["exists oven/bun:1.2.3", "pull oven/bun:1.2.3", "probe host", `host image ${HOST_REF}`],
    });
  });

  test("no official image and another major: the host's, with a warning", async () => {
    const got = await choose({ version: "2.0.1", versionFrom: '"packageManager" in package.json' });
    expect(got.ref).toBe(HOST_REF);
    expect(got.warnings).toEqual([
      '"packageManager" in package.json asks for Bun 2.0.1 but no oven/bun:2.0.1 image is available (no registry answered); building with the host\'s Bun 1.4.5',
    ]);
  });
});

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A HostBun over small stand-in files (the CA bundle is the host's). */
function hostBun(withNode: boolean): HostBun {
  const dir = mkdtempSync(join(tmpdir(), "kiln-bun-"));
  temps.push(dir);
  for (const name of ["bun", "busybox", "node"]) writeFileSync(join(dir, name), name);
  const node: HostNode = { nodePath: join(dir, "node"), version: "v20.1.0", major: 20, modulesDir: join(dir, "none"), busyboxPath: "", applets: [], libraries: [] };
  return { bunPath: join(dir, "bun"), version: "1.4.5", major: 1, busyboxPath: join(dir, "busybox"), applets: ["bin/sh"], libraries: [], ...(withNode ? { node } : {}) };
}

async function entries(host: HostBun): Promise<Map<string, RootfsEntry>> {
  const out = new Map<string, RootfsEntry>();
  for await (const e of bunRootfsEntries(host, 0)) out.set(e.path, e);
  return out;
}

describe("the Bun image assembled from the host", () => {
  test("bun in /usr/local/bin, bunx a link to it, Bun standing in for node last on PATH; the host's node ahead when it has one", async () => {
    const without = await entries(hostBun(false));
    expect(without.get("usr/local/bin/bun")).toMatchObject({ type: "file", mode: 0o755 });
    expect(without.get("usr/local/bin/bunx")).toEqual({ type: "symlink", path: "usr/local/bin/bunx", target: "bun", mtime: 0 });
    expect(without.get("usr/local/bun-node-fallback-bin/node")).toMatchObject({ type: "symlink", target: "/usr/local/bin/bun" });
    expect(without.has("usr/local/bin/node")).toBe(false);
    expect(without.get("home/app")).toMatchObject({ type: "dir", uid: 1000 });

    const withNode = await entries(hostBun(true));
    expect(withNode.get("usr/local/bin/node")).toMatchObject({ type: "file", mode: 0o755 });
    expect(withNode.get("usr/local/bin/npm")).toMatchObject({ type: "symlink", target: "../lib/node_modules/npm/bin/npm-cli.js" });

    const path = bunImageChanges({}).find((c) => c.startsWith("ENV PATH="));
    expect(path).toBe("ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin:/usr/local/bun-node-fallback-bin");
  });

  test("probeHostBun: the host's bun behind its links, its version, the host's node beside it, the libraries of both", async () => {
    const host = await probeHostBun();
    expect(host.bunPath).toBe(realpathSync(Bun.which("bun")!));
    expect(host.version).toBe(Bun.spawnSync([host.bunPath, "--version"]).stdout.toString().trim());
    expect(host.major).toBe(Number(host.version.split(".")[0]));
    expect(host.node?.nodePath).toBe(realpathSync(Bun.which("node")!));
    expect(host.libraries.some((l) => l.includes("libc.so"))).toBe(true);
  });

  test("ref, labels and import instructions", () => {
    expect(bunRuntimeRef("1.4.5")).toBe("kiln/bun-runtime:1.4.5-host");
    expect(bunRuntimeRef("1.3.0-canary.12+b3a1c")).toBe("kiln/bun-runtime:1.3.0-canary.12_b3a1c-host");
    expect(bunBaseLabels(hostBun(true), { "kiln.test": "1" })).toEqual({
      "kiln.managed": "true",
      "kiln.base": "bun",
      "kiln.base.version": "1.4.5",
      "kiln.base.layout": "2",
      "kiln.base.node": "v20.1.0",
      "kiln.test": "1",
    });
    const changes = bunImageChanges({ "kiln.base": "bun" });
    expect(changes).toContain("ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt");
    expect(changes).toContain("ENV BUN_RUNTIME_TRANSPILER_CACHE_PATH=0");
    expect(changes).toContain("WORKDIR /app");
    expect(changes).toContain('LABEL kiln.base="bun"');
    expect(changes.at(-1)).toBe('CMD ["bun"]');
  });

  test("reused while the versions in it are unchanged, imported again when one changes", async () => {
    const host = hostBun(true);
    const same = fakeImageRuntime({ listed: [{ tags: [HOST_REF], labels: bunBaseLabels(host) }] });
    expect(await ensureHostBunImage(same, host)).toBe(HOST_REF);
    expect(same.imports).toEqual([]);

    const nodeChanged = fakeImageRuntime({ listed: [{ tags: [HOST_REF], labels: bunBaseLabels({ ...host, node: { ...host.node!, version: "v20.0.0" } }) }] });
    expect(await ensureHostBunImage(nodeChanged, host)).toBe(HOST_REF);
    expect(nodeChanged.imports.map((i) => i.ref)).toEqual([HOST_REF]);
    expect(nodeChanged.imports[0]!.changes).toEqual(bunImageChanges(bunBaseLabels(host)));
  });
});
