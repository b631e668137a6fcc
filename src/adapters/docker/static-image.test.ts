import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RootfsEntry } from "./rootfs-tar.ts";
import {
  ensureHostStaticImage,
  parseCaddyVersion,
  probeHostCaddy,
  staticBaseLabels,
  staticImageChanges,
  staticRootfsEntries,
  staticRuntimeRef,
  type HostCaddy,
} from "./static-image.ts";
import { fakeImageRuntime } from "./testdata/fake-image-runtime.ts";

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A HostCaddy over small stand-in files (the CA bundle is the host's). */
function hostCaddy(version = "2.6.2"): HostCaddy {
  const dir = mkdtempSync(join(tmpdir(), "kiln-caddy-"));
  temps.push(dir);
  for (const name of ["caddy", "busybox", "libzstd.so.1"]) writeFileSync(join(dir, name), name);
  return { caddyPath: join(dir, "caddy"), version, busyboxPath: join(dir, "busybox"), applets: ["bin/sh"], libraries: [join(dir, "libzstd.so.1")] };
}

describe("parseCaddyVersion", () => {
  test("Debian's plain version and upstream's v-prefixed one with a module hash", () => {
    expect(parseCaddyVersion("2.6.2")).toBe("2.6.2");
    expect(parseCaddyVersion("v2.7.6 h1:w0NymbG2m9PcvKWsrXO6EEkY9Ru4FJK8uQbYcev1p3A=")).toBe("2.7.6");
    expect(parseCaddyVersion("v2.8.0-beta.1 h1:x")).toBe("2.8.0-beta.1");
  });

  test("anything else is no version", () => {
    expect(parseCaddyVersion("")).toBeUndefined();
    expect(parseCaddyVersion('{"level":"warn","msg":"unable to determine directory"}')).toBeUndefined();
    expect(parseCaddyVersion("(devel)")).toBeUndefined();
  });
});

describe("the static image assembled from the host", () => {
  test("caddy in /usr/bin, its libraries, busybox, an empty /srv owned by root; no node", async () => {
    const host = hostCaddy();
    const entries = new Map<string, RootfsEntry>();
    for await (const e of staticRootfsEntries(host, 0)) entries.set(e.path, e);
    expect(entries.get("usr/bin/caddy")).toMatchObject({ type: "file", mode: 0o755, source: host.caddyPath });
    expect(entries.get(host.libraries[0]!.slice(1))).toMatchObject({ type: "file" });
    expect(entries.get("bin/busybox")).toMatchObject({ type: "file", mode: 0o755 });
    expect(entries.get("bin/sh")).toMatchObject({ type: "symlink", target: "/bin/busybox" });
    expect(entries.get("srv")).toEqual({ type: "dir", path: "srv", mode: 0o755, uid: undefined, gid: undefined, mtime: 0 });
    expect(entries.get("etc/caddy")).toMatchObject({ type: "dir", mode: 0o755 });
    expect(entries.get("etc/passwd")).toMatchObject({ type: "file" });
    expect([...entries.keys()].filter((p) => /node/.test(p))).toEqual([]);
  });

  test("ref, labels and import instructions", () => {
    expect(staticRuntimeRef("2.6.2")).toBe("kiln/static-runtime:2.6.2-host");
    expect(staticBaseLabels("2.6.2", { "kiln.test": "1" })).toEqual({ "kiln.managed": "true", "kiln.base": "static", "kiln.base.version": "2.6.2", "kiln.base.layout": "2", "kiln.test": "1" });
    const changes = staticImageChanges(staticBaseLabels("2.6.2"));
    expect(changes).toContain('LABEL kiln.managed="true" kiln.base="static" kiln.base.version="2.6.2" kiln.base.layout="2"');
    expect(changes.at(-1)).toBe('CMD ["caddy","version"]');
  });

  test("reused while the host's caddy version is unchanged, imported again when it changes", async () => {
    const host = hostCaddy("2.6.2");
    const ref = staticRuntimeRef("2.6.2");
    const same = fakeImageRuntime({ listed: [{ tags: [ref], labels: staticBaseLabels("2.6.2") }] });
    expect(await ensureHostStaticImage(same, host)).toBe(ref);
    expect(same.imports).toEqual([]);

    // An image of that tag not labelled as made from this caddy: imported again.
    const other = fakeImageRuntime({ listed: [{ tags: [ref], labels: staticBaseLabels("2.6.1") }] });
    expect(await ensureHostStaticImage(other, host, { labels: { "kiln.test": "1" } })).toBe(ref);
    expect(other.imports).toEqual([{ ref, changes: staticImageChanges(staticBaseLabels("2.6.2", { "kiln.test": "1" })) }]);
  });

  test("the host's caddy (Kiln's proxy): its version, and the libraries it links", async () => {
    const host = await probeHostCaddy();
    expect(host.version).toMatch(/^2\.\d+\.\d+/);
    expect(host.libraries.some((l) => /\/libc\.so\.6$/.test(l))).toBe(true);
    expect(host.busyboxPath).toMatch(/busybox$/);
  });
});
