import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BLOCK, FIELD, headerChecksum } from "./format.ts";
import { paxRecord } from "./encode.ts";
import { META_CAPS, TarFormatError, parsePax, readTar, readTarEntries } from "./reader.ts";
import { encodeEntry, encodeTar, endOfArchive } from "./writer.ts";

let dir: string;
const longName = `${"deep/".repeat(40)}name-${"n".repeat(100)}.txt`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kiln-tarr-"));
  const src = join(dir, "src");
  mkdirSync(join(src, "sub"), { recursive: true });
  writeFileSync(join(src, "a.txt"), "hello\n");
  writeFileSync(join(src, "sub/run"), "#!/bin/sh\n");
  chmodSync(join(src, "sub/run"), 0o750);
  symlinkSync("a.txt", join(src, "link"));
  mkdirSync(join(src, longName, ".."), { recursive: true });
  writeFileSync(join(src, longName), "long");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function systemTar(format: string, gzip: boolean): Uint8Array {
  const out = join(dir, `out-${format}${gzip ? ".tgz" : ".tar"}`);
  const r = Bun.spawnSync(["tar", `--format=${format}`, gzip ? "-czf" : "-cf", out, "-C", join(dir, "src"), "."]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return readFileSync(out);
}

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

describe("readTar with archives made by GNU tar", () => {
  for (const format of ["gnu", "pax", "ustar"]) {
    for (const gzip of [false, true]) {
      test(`${format}${gzip ? " + gzip" : ""}`, async () => {
        if (format === "ustar") {
          // ustar cannot hold the long name; GNU tar refuses, so skip that file
          rmSync(join(dir, "src", "deep"), { recursive: true, force: true });
        }
        const entries = await readTarEntries(chunked(systemTar(format, gzip), 700));
        const byPath = new Map(entries.map((e) => [e.entry.path.replace(/\/$/, ""), e]));
        expect(new TextDecoder().decode(byPath.get("./a.txt")!.data)).toBe("hello\n");
        expect(byPath.get("./sub")!.entry.type).toBe("directory");
        expect(byPath.get("./sub/run")!.entry.mode).toBe(0o750);
        expect(byPath.get("./link")!.entry).toMatchObject({ type: "symlink", linkname: "a.txt" });
        if (format !== "ustar") expect(new TextDecoder().decode(byPath.get(`./${longName}`)!.data)).toBe("long");
      });
    }
  }
});

describe("readTar by hand-made headers", () => {
  test("GNU 'L' long name and base-256 size", async () => {
    const name = "x".repeat(300);
    const longHeader = encodeEntry({ path: "././@LongLink", type: "file", data: `${name}\0` });
    longHeader[FIELD.typeflag[0]] = "L".charCodeAt(0);
    fixChecksum(longHeader);
    const file = encodeEntry({ path: "short", type: "file", data: "abc" });
    // rewrite size as base-256: 0x80 then big-endian 3
    file.fill(0, FIELD.size[0], FIELD.size[0] + FIELD.size[1]);
    file[FIELD.size[0]] = 0x80;
    file[FIELD.size[0] + FIELD.size[1] - 1] = 3;
    fixChecksum(file);
    const entries = await readTarEntries(concat(longHeader, file, endOfArchive()));
    expect(entries).toHaveLength(1);
    expect(entries[0]!.entry.path).toBe(name);
    expect(new TextDecoder().decode(entries[0]!.data)).toBe("abc");
  });

  test("pax global headers apply to later entries, local ones to the next only", async () => {
    const global = encodeEntry({ path: "g", type: "file", data: "20 mtime=1700000000\n" });
    global[FIELD.typeflag[0]] = "g".charCodeAt(0);
    fixChecksum(global);
    const local = encodeEntry({ path: "x", type: "file", data: "16 path=renamed\n" });
    local[FIELD.typeflag[0]] = "x".charCodeAt(0);
    fixChecksum(local);
    const tar = concat(global, local, encodeEntry({ path: "a", type: "file" }), encodeEntry({ path: "b", type: "file" }), endOfArchive());
    const entries = await readTarEntries(tar);
    expect(entries.map((e) => [e.entry.path, e.entry.mtime])).toEqual([
      ["renamed", 1700000000],
      ["b", 1700000000],
    ]);
  });

  test("unread bodies are skipped", async () => {
    const tar = encodeTar([
      { path: "big", type: "file", data: "z".repeat(5000) },
      { path: "next", type: "file", data: "n" },
    ]);
    const paths: string[] = [];
    for await (const item of readTar(chunked(tar, 100))) paths.push(item.entry.path);
    expect(paths).toEqual(["big", "next"]);
  });

  test("end of archive without the zero blocks is accepted", async () => {
    const entries = await readTarEntries(encodeEntry({ path: "a", type: "file", data: "1" }));
    expect(entries).toHaveLength(1);
  });

  test("empty input is an empty archive", async () => {
    expect(await readTarEntries(new Uint8Array(0))).toEqual([]);
  });
});

describe("readTar refuses broken input", () => {
  test("not a tar", async () => {
    const junk = new TextEncoder().encode("just some text, not an archive at all".repeat(20));
    await expect(readTarEntries(junk)).rejects.toBeInstanceOf(TarFormatError);
  });

  test("bad checksum", async () => {
    const tar = encodeTar([{ path: "a", type: "file", data: "1" }]);
    tar[0] = "b".charCodeAt(0);
    await expect(readTarEntries(tar)).rejects.toThrow(/checksum/);
  });

  test("truncated data", async () => {
    const tar = encodeTar([{ path: "a", type: "file", data: "x".repeat(2000) }]);
    await expect(readTarEntries(tar.slice(0, BLOCK + 1000))).rejects.toThrow(/truncated/);
  });

  test("corrupt gzip", async () => {
    const tgz = encodeTar([{ path: "a", type: "file", data: "x".repeat(2000) }], { gzip: true });
    const broken = tgz.slice(0, 20);
    await expect(readTarEntries(broken)).rejects.toBeInstanceOf(TarFormatError);
  });

  test("endless extended headers", async () => {
    const pax = encodeEntry({ path: "x", type: "file", data: "12 path=aaa\n" });
    pax[FIELD.typeflag[0]] = "x".charCodeAt(0);
    fixChecksum(pax);
    await expect(readTarEntries(concat(...Array(20).fill(pax)))).rejects.toThrow("more than 16 extended headers in a row");
  });
});

describe("readTar caps metadata (META_CAPS), so a hostile archive cannot take memory or CPU", () => {
  /** A metadata header (typeflag 'x', 'g', 'L' or 'K') carrying `data`, made with the one encoder. */
  const meta = (flag: string, data: Uint8Array | string) => {
    const block = encodeEntry({ path: "meta", type: "file", data });
    block[FIELD.typeflag[0]] = flag.charCodeAt(0);
    fixChecksum(block);
    return block;
  };
  /** Just a header declaring `size` bytes of data, and no data: refusing it must not need the data. */
  const headerOnly = (flag: string, size: number) => meta(flag, new Uint8Array(size)).subarray(0, BLOCK);
  const file = (path: string) => encodeEntry({ path, type: "file", data: "1" });
  /** One pax record of exactly `bytes` bytes ("<len> comment=vvv…\n"). */
  const paxOf = (bytes: number) => paxRecord("comment", "v".repeat(bytes - " comment=\n".length - String(bytes).length));

  test("a pax header over 1 MiB is refused from its header, before its data is read", async () => {
    const size = 2 * 1024 * 1024;
    for (const flag of ["x", "g"]) {
      await expect(readTarEntries(concat(headerOnly(flag, size), file("a")))).rejects.toThrow(`a pax header of ${size} bytes is over the 1 MiB cap`);
    }
  });

  test("a pax header of exactly 1 MiB is read", async () => {
    const pax = paxOf(META_CAPS.paxBytes);
    expect(new TextEncoder().encode(pax).length).toBe(META_CAPS.paxBytes);
    const entries = await readTarEntries(concat(meta("x", pax), file("a"), endOfArchive()));
    expect(entries.map((e) => e.entry.path)).toEqual(["a"]);
  });

  test("a GNU long name or link name over 64 KiB is refused", async () => {
    await expect(readTarEntries(concat(headerOnly("L", 65 * 1024), file("a")))).rejects.toThrow("a GNU long name of 66560 bytes is over the 64 KiB cap");
    await expect(readTarEntries(concat(headerOnly("K", 65 * 1024), file("a")))).rejects.toThrow("a GNU long link name of 66560 bytes is over the 64 KiB cap");
  });

  test("more than 16 global headers are refused, even one per entry", async () => {
    const g = meta("g", paxRecord("comment", "hi"));
    const ok = Array.from({ length: 16 }, (_, i) => concat(g, file(`f${i}`)));
    expect(await readTarEntries(concat(...ok, endOfArchive()))).toHaveLength(16);
    await expect(readTarEntries(concat(...ok, g, file("last"), endOfArchive()))).rejects.toThrow("more than 16 global pax headers");
  });

  test("more than 32 MiB of metadata in one archive is refused", async () => {
    const x = meta("x", paxOf(META_CAPS.paxBytes));
    const parts = Array.from({ length: 33 }, (_, i) => concat(x, file(`f${i}`)));
    const tar = Bun.gzipSync(concat(...parts, endOfArchive()) as Uint8Array<ArrayBuffer>);
    expect(tar.length).toBeLessThan(1024 * 1024); // small on the wire: the cap is what stops it
    await expect(readTarEntries(tar)).rejects.toThrow("the extended headers add up to more than the 32 MiB cap");
  });

  test("pax records the reader does not use (thousands of xattrs) change nothing; path and mtime still apply", async () => {
    const many = Array.from({ length: 2000 }, (_, i) => paxRecord(`SCHILY.xattr.user.k${i}`, "v")).join("");
    const g = meta("g", `${many}${paxRecord("mtime", "1700000000")}`);
    const x = meta("x", `${many}${paxRecord("path", "renamed")}`);
    const entries = await readTarEntries(concat(g, x, file("a"), file("b"), endOfArchive()));
    expect(entries.map((e) => [e.entry.path, e.entry.mtime])).toEqual([
      ["renamed", 1700000000],
      ["b", 1700000000],
    ]);
  });
});

test("parsePax", () => {
  expect(parsePax(new TextEncoder().encode("14 path=ünï\n18 linkpath=a b=c\n"))).toEqual({ path: "ünï", linkpath: "a b=c" });
  expect(() => parsePax(new TextEncoder().encode("99 path=x\n"))).toThrow(TarFormatError);
  for (const bad of ["6 =ab\n", "7 abcd\n", "x5 a=b\n", "6a=bc\n", "12345678901234567 a=b\n"]) {
    expect(() => parsePax(new TextEncoder().encode(bad))).toThrow("malformed pax header");
  }
  // with keys to keep, only those are returned; the others are still checked
  const records = new TextEncoder().encode("12 path=abc\n20 SCHILY.xattr.a=b\n12 mtime=17\n");
  expect(parsePax(records, ["path", "mtime"])).toEqual({ path: "abc", mtime: "17" });
  expect(() => parsePax(new TextEncoder().encode("12 path=abc\n7 abcd\n"), ["path"])).toThrow("malformed pax header");
});

function fixChecksum(block: Uint8Array): void {
  const sum = headerChecksum(block.subarray(0, BLOCK));
  block.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), FIELD.checksum[0]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
