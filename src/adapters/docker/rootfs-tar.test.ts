import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../exec/run.ts";
import { paxRecord } from "../../formats/tar/encode.ts";
import { entryHeader, tarStream, type RootfsEntry } from "./rootfs-tar.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "kiln-rootfs-tar-"));
  dirs.push(d);
  return d;
}

/** Let GNU tar (the reference) list and extract what we wrote. */
async function gnuTar(entries: RootfsEntry[]): Promise<{ listing: string[]; out: string }> {
  const dir = await tmp();
  const archive = join(dir, "a.tar");
  await Bun.write(archive, new Response(tarStream(entries)));
  const listing: string[] = [];
  const list = await run({ argv: ["tar", "--numeric-owner", "-tvf", archive] }, { onLine: (_s, l) => listing.push(l) });
  expect(list.code).toBe(0);
  const out = join(dir, "out");
  await run({ argv: ["mkdir", out] });
  const x = await run({ argv: ["tar", "--same-owner", "-xpf", archive, "-C", out] });
  expect(x.tail).toEqual([]);
  expect(x.code).toBe(0);
  return { listing, out };
}

describe("tarStream", () => {
  test("dirs, files from memory and from the host, symlinks, modes and owners", async () => {
    const src = join(await tmp(), "host.bin");
    await writeFile(src, "x".repeat(1000));
    const { listing, out } = await gnuTar([
      { type: "dir", path: "tmp", mode: 0o1777 },
      { type: "dir", path: "home/app", mode: 0o755, uid: 1000, gid: 1000 },
      { type: "file", path: "etc/passwd", mode: 0o644, data: new TextEncoder().encode("root:x:0:0::/root:/bin/sh\n") },
      { type: "file", path: "bin/tool", mode: 0o755, size: 1000, source: src },
      { type: "symlink", path: "bin/sh", target: "/bin/busybox" },
    ]);
    expect(listing.some((l) => l.startsWith("drwxrwxrwt 0/0") && l.endsWith(" tmp/"))).toBe(true);
    expect(listing.some((l) => l.startsWith("drwxr-xr-x 1000/1000") && l.endsWith(" home/app/"))).toBe(true);
    expect(listing.some((l) => l.includes("bin/sh -> /bin/busybox"))).toBe(true);
    expect(await readFile(join(out, "etc/passwd"), "utf8")).toBe("root:x:0:0::/root:/bin/sh\n");
    expect((await readFile(join(out, "bin/tool"), "utf8")).length).toBe(1000);
    expect((await stat(join(out, "bin/tool"))).mode & 0o777).toBe(0o755);
    expect((await stat(join(out, "home/app"))).uid).toBe(1000);
    expect(await readlink(join(out, "bin/sh"))).toBe("/bin/busybox");
  });

  test("long paths use the ustar prefix or a pax header; long link targets too", async () => {
    const deep = `${"a".repeat(60)}/${"b".repeat(60)}/${"c".repeat(60)}/file.txt`; // > 100, splittable
    const huge = `${"d".repeat(120)}/${"e".repeat(120)}`; // name part > 100: needs pax
    const target = `/${"t".repeat(150)}`;
    const { out } = await gnuTar([
      { type: "file", path: deep, mode: 0o644, data: new TextEncoder().encode("deep") },
      { type: "file", path: huge, mode: 0o644, data: new TextEncoder().encode("huge") },
      { type: "symlink", path: "link", target },
    ]);
    expect(await readFile(join(out, deep), "utf8")).toBe("deep");
    expect(await readFile(join(out, huge), "utf8")).toBe("huge");
    expect(await readlink(join(out, "link"))).toBe(target);
  });

  test("a host file that changed size since it was listed fails the stream", async () => {
    const src = join(await tmp(), "f");
    await writeFile(src, "12345");
    const stream = tarStream([{ type: "file", path: "f", mode: 0o644, size: 3, source: src }]);
    await expect(new Response(stream).arrayBuffer()).rejects.toThrow(/grew/);
  });
});

describe("headers", () => {
  test("one 512-byte header for a short name; a pax header, its record and the header for a long one", () => {
    expect(entryHeader({ type: "dir", path: "etc", mode: 0o755 }).length).toBe(512);
    const long = entryHeader({ type: "file", path: "x".repeat(200), mode: 0o644, data: new Uint8Array() });
    expect(long.length).toBe(3 * 512);
    const record = paxRecord("path", "x".repeat(200));
    expect(new TextDecoder().decode(long.subarray(512, 512 + record.length))).toBe(record);
  });

  test("owners are numeric ids, named root when 0", () => {
    const field = (h: Uint8Array, off: number, len: number) => new TextDecoder().decode(h.subarray(off, off + len)).replace(/\0+$/, "");
    const root = entryHeader({ type: "dir", path: "root", mode: 0o700 });
    expect([field(root, 108, 7), field(root, 116, 7), field(root, 265, 32), field(root, 297, 32)]).toEqual(["0000000", "0000000", "root", "root"]);
    const app = entryHeader({ type: "dir", path: "home/app", mode: 0o755, uid: 1000, gid: 1000 });
    expect([field(app, 108, 7), field(app, 116, 7), field(app, 265, 32), field(app, 297, 32)]).toEqual(["0001750", "0001750", "", ""]);
  });
});
