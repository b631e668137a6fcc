/**
 * Hostile tarballs for the fuzz suite: a valid archive built with formats/tar/encode.ts (files,
 * directories, symlinks, hard links, long names through pax and GNU 'L'/'K' headers), then
 * mutated: entries (names with '..', absolute paths, NULs, unicode, very long; link targets out
 * of the tree, to parents, in chains), raw header fields (bit flips, sizes, octal and base-256
 * numbers, type flags, checksums fixed up or not), pax records (huge, malformed lengths, many
 * global headers), truncation, garbage, gzip before or after the mutation.
 *
 * `escapeTo` is an absolute directory outside the work dir: names and targets aim at it.
 */
import { BLOCK, FIELD, TYPEFLAG, headerChecksum, paddingFor } from "../../src/formats/tar/format.ts";
import { type TarInputEntry, encodeHeader, endOfArchive, paxRecord } from "../../src/formats/tar/encode.ts";
import { concatBytes } from "../../src/formats/tar/bytes.ts";
import type { Rng } from "./prng.ts";

export interface TarCase {
  label: string;
  bytes: Uint8Array;
}

const enc = new TextEncoder();

/** One archive under construction: its bytes in pieces, and where each ustar header starts. */
class Archive {
  readonly parts: Uint8Array[] = [];
  readonly headers: number[] = [];
  #length = 0;

  push(bytes: Uint8Array, headerAt: number[] = []): void {
    for (const h of headerAt) this.headers.push(this.#length + h);
    this.parts.push(bytes);
    this.#length += bytes.length;
  }

  /** A header (with its pax header, if any) and the data. */
  entry(e: { path: string; typeflag: string; data?: Uint8Array; linkname?: string; mode?: number; size?: number }): void {
    const data = e.data ?? new Uint8Array(0);
    const header = encodeHeader({ path: e.path, typeflag: e.typeflag, mode: e.mode ?? 0o644, size: e.size ?? data.length, mtime: 0, linkname: e.linkname });
    const at: number[] = [];
    for (let off = 0; off < header.length; off += BLOCK) if (off === 0 || off === header.length - BLOCK) at.push(off);
    this.push(header, at);
    this.push(concatBytes([data, new Uint8Array(paddingFor(data.length))]));
  }

  /** A raw meta header ('x', 'g', 'L', 'K') whose body is given as is. */
  meta(typeflag: string, body: Uint8Array, declaredSize = body.length): void {
    const header = encodeHeader({ path: `meta/${typeflag}`, typeflag, mode: 0o644, size: declaredSize, mtime: 0 });
    this.push(header, [header.length - BLOCK]);
    this.push(concatBytes([body, new Uint8Array(paddingFor(body.length))]));
  }

  bytes(): Uint8Array {
    return concatBytes(this.parts);
  }
}

// ───────────────────────────── names and targets ─────────────────────────────

function hostileName(rng: Rng, escapeTo: string): string {
  const base = rng.pick(["a", "pwned", "x.txt", "sub/f", "é/ü/文件", "🔥", " ", "-rf", "a\\b", "CON", "a:b", "\u202e", "\u0000x"]);
  switch (rng.int(0, 16)) {
    case 0: return `../${base}`;
    case 1: return `../../sentinel/${base}`;
    case 2: return `${escapeTo}/${base}`;
    case 3: return `/${base}`;
    case 4: return `a/../../${base}`;
    case 5: return `./${"../".repeat(rng.int(1, 12))}${base}`;
    case 6: return `${base}\0../../evil`;
    case 7: return `${base}/`;
    case 8: return `./././${base}`;
    case 9: return "x".repeat(rng.pick([99, 100, 101, 155, 256, 1023, 1025, 4096, 20_000]));
    case 10: return Array.from({ length: rng.int(2, rng.chance(0.9) ? 30 : 300) }, () => rng.pick(["d", "é", "ü", "文"])).join("/");
    case 11: return `${"d/".repeat(rng.chance(0.9) ? rng.int(20, 60) : rng.int(500, 520))}f`; // the path cap is 1024 bytes
    case 12: return rng.pick([".", "./", "..", "/", "", "//", "./..", ".../x", "a//b", "a/./b"]);
    case 13: return String.fromCharCode(...Array.from({ length: rng.int(1, 40) }, () => rng.int(1, 0xffff)));
    case 14: return `link/${base}`; // through a symlink the archive made
    case 15: return `file.txt/${base}`; // under a file
    default: return `dir/${base}`;
  }
}

function hostileTarget(rng: Rng, escapeTo: string): string {
  switch (rng.int(0, 11)) {
    case 0: return "..";
    case 1: return "../..";
    case 2: return `${"../".repeat(rng.int(1, 20))}sentinel`;
    case 3: return escapeTo;
    case 4: return "/etc/passwd";
    case 5: return "dir/../..";
    case 6: return "link/..";
    case 7: return "chain1";
    case 8: return "";
    case 9: return "x\0..";
    case 10: return "file.txt";
    default: return `${"a/".repeat(rng.int(1, 400))}..`;
  }
}

// ───────────────────────────── the base archive ─────────────────────────────

/** A valid archive with a bit of everything, with hostile entries mixed in when `hostile`. */
function buildArchive(rng: Rng, escapeTo: string, hostile: boolean): { archive: Archive; label: string[] } {
  const a = new Archive();
  const label: string[] = [];
  a.entry({ path: "./", typeflag: TYPEFLAG.directory, mode: 0o755 });
  a.entry({ path: "dir/", typeflag: TYPEFLAG.directory, mode: 0o755 });
  a.entry({ path: "file.txt", typeflag: TYPEFLAG.file, data: enc.encode("hello\n") });
  a.entry({ path: "dir/run.sh", typeflag: TYPEFLAG.file, data: enc.encode("#!/bin/sh\n"), mode: 0o755 });
  if (rng.chance(0.5)) a.entry({ path: "link", typeflag: TYPEFLAG.symlink, linkname: "dir" });
  if (rng.chance(0.5)) a.entry({ path: "dir/same", typeflag: TYPEFLAG.hardlink, linkname: "file.txt" });
  if (rng.chance(0.3)) a.entry({ path: `long/${"n".repeat(rng.int(90, 240))}/${"m".repeat(rng.int(90, 200))}`, typeflag: TYPEFLAG.file, data: rng.bytes(rng.int(0, 2000)) }); // pax path
  if (rng.chance(0.3)) {
    const name = `gnu/${"g".repeat(rng.int(100, 400))}`;
    a.meta("L", enc.encode(`${name}\0`));
    a.entry({ path: name.slice(0, 90), typeflag: TYPEFLAG.file, data: enc.encode("gnu") });
  }
  if (rng.chance(0.2)) {
    a.meta("K", enc.encode(`${"dir/".repeat(40)}run.sh\0`));
    a.entry({ path: "gnulink", typeflag: TYPEFLAG.symlink, linkname: "dir/run.sh" });
  }
  if (rng.chance(0.2)) a.entry({ path: "chain1", typeflag: TYPEFLAG.symlink, linkname: "chain2" });
  if (rng.chance(0.2)) a.entry({ path: "chain2", typeflag: TYPEFLAG.symlink, linkname: rng.pick(["chain1", "dir", "..", "chain3/.."]) });
  const n = hostile ? rng.int(1, 4) : 0;
  for (let i = 0; i < n; i++) {
    const kind = rng.pick(["file", "dir", "symlink", "hardlink", "device", "odd-type"] as const);
    const path = hostileName(rng, escapeTo);
    label.push(`${kind} ${JSON.stringify(path.slice(0, 60))}`);
    if (kind === "file") a.entry({ path, typeflag: TYPEFLAG.file, data: enc.encode("pwned") });
    else if (kind === "dir") a.entry({ path, typeflag: TYPEFLAG.directory });
    else if (kind === "device") a.entry({ path, typeflag: rng.pick([TYPEFLAG["character-device"], TYPEFLAG["block-device"], TYPEFLAG.fifo]) });
    else if (kind === "odd-type") a.entry({ path, typeflag: rng.pick(["S", "V", "M", "D", "N", "A", "7", "\0", "\xff", "g"]), data: enc.encode("x") });
    else {
      const linkname = rng.chance(0.5) ? hostileTarget(rng, escapeTo) : hostileName(rng, escapeTo);
      label[label.length - 1] += ` -> ${JSON.stringify(linkname.slice(0, 60))}`;
      a.entry({ path, typeflag: kind === "symlink" ? TYPEFLAG.symlink : TYPEFLAG.hardlink, linkname });
    }
    if (kind === "symlink" && rng.chance(0.5)) a.entry({ path: `${path}/through`, typeflag: TYPEFLAG.file, data: enc.encode("pwned") });
  }
  return { archive: a, label };
}

// ───────────────────────────── pax records ─────────────────────────────

function paxBody(rng: Rng, escapeTo: string): { body: Uint8Array; what: string } {
  const key = rng.pick(["path", "linkpath", "size", "mtime", "uid", "uname", "comment", "GNU.sparse.size", "SCHILY.xattr.user.x", ""]);
  switch (rng.int(0, 7)) {
    case 0: return { body: enc.encode(paxRecord("path", hostileName(rng, escapeTo))), what: "pax path" };
    case 1: return { body: enc.encode(paxRecord("linkpath", hostileTarget(rng, escapeTo))), what: "pax linkpath" };
    case 2: return { body: enc.encode(paxRecord("size", rng.pick(["-1", "1e9", "99999999999999999999", "0x10", "", "1.5", "9007199254740993", "12 "]))), what: "pax size" };
    case 3: return { body: enc.encode(paxRecord(key, "v".repeat(rng.pick([1000, 100_000, 1_048_000, 1_100_000])))), what: "pax huge" };
    case 4: {
      const good = paxRecord(key, "value");
      const len = rng.pick(["0", "1", "999999999", "-5", "abc", String(good.length + 1), String(good.length - 1), ""]);
      return { body: enc.encode(`${len}${good.slice(good.indexOf(" "))}`), what: `pax length ${len}` };
    }
    case 5: return { body: enc.encode(Array.from({ length: rng.int(100, 5000) }, (_, i) => paxRecord(`k${i}`, "v")).join("")), what: "pax many records" };
    case 6: return { body: enc.encode(paxRecord("path", "a") + "\0".repeat(rng.int(1, 600))), what: "pax NUL padded" };
    default: return { body: rng.bytes(rng.int(1, 3000)), what: "pax random bytes" };
  }
}

// ───────────────────────────── raw header mutations ─────────────────────────────

const FIELDS = Object.keys(FIELD) as (keyof typeof FIELD)[];

function mutateHeader(rng: Rng, bytes: Uint8Array, at: number): string {
  const fieldName = rng.pick(FIELDS);
  const [off, len] = FIELD[fieldName];
  const start = at + off;
  if (start + len > bytes.length) return "header out of range";
  let what: string;
  switch (rng.int(0, 6)) {
    case 0: {
      const bit = rng.int(0, len * 8 - 1);
      bytes[start + (bit >> 3)]! ^= 1 << (bit & 7);
      what = `bit flip in ${fieldName}`;
      break;
    }
    case 1: {
      const text = rng.pick(["77777777777", "0", "-1", "9", " 12 ", "\0\0\0", "1".repeat(len), "7".repeat(len), "0000000001\0", "1e3"]);
      bytes.fill(0, start, start + len);
      bytes.set(enc.encode(text).subarray(0, len), start);
      what = `${fieldName}=${JSON.stringify(text)}`;
      break;
    }
    case 2: {
      bytes[start] = rng.pick([0x80, 0xff, 0x81, 0xfe]);
      for (let i = 1; i < len; i++) bytes[start + i] = rng.int(0, 255);
      what = `base-256 ${fieldName}`;
      break;
    }
    case 3: {
      bytes.set(rng.bytes(len), start);
      what = `random ${fieldName}`;
      break;
    }
    case 4: {
      bytes[at + FIELD.typeflag[0]] = rng.int(0, 255);
      what = `typeflag 0x${bytes[at + FIELD.typeflag[0]]!.toString(16)}`;
      break;
    }
    case 5: {
      const size = rng.pick([0, 1, 511, 512, 513, 1_000_000, 0o77777777777, 2 ** 33]);
      const digits = size.toString(8).slice(0, 11).padStart(11, "0");
      bytes.set(enc.encode(`${digits}\0`), at + FIELD.size[0]);
      what = `size ${size}`;
      break;
    }
    default: {
      bytes.fill(0, at, at + BLOCK);
      what = "zeroed header";
    }
  }
  if (rng.chance(0.75)) {
    const sum = headerChecksum(bytes.subarray(at, at + BLOCK));
    bytes.set(enc.encode(`${sum.toString(8).padStart(6, "0")}\0 `), at + FIELD.checksum[0]);
    what += " (checksum fixed)";
  }
  return what;
}

// ───────────────────────────── one case ─────────────────────────────

/** One hostile (or, now and then, valid) archive. */
export function tarCase(rng: Rng, escapeTo: string): TarCase {
  const hostile = rng.chance(0.85);
  const { archive, label } = buildArchive(rng, escapeTo, hostile);
  if (rng.chance(0.3)) {
    const globals = rng.chance(0.3) ? rng.int(2, 40) : 1;
    for (let i = 0; i < globals; i++) {
      const { body, what } = paxBody(rng, escapeTo);
      const flag = rng.pick(["x", "g"]);
      archive.meta(flag, body, rng.chance(0.1) ? rng.pick([body.length + 512, Math.max(0, body.length - 1), 0]) : body.length);
      if (i === 0) label.push(`${globals}×${flag} ${what}`);
      if (rng.chance(0.5)) archive.entry({ path: `after-pax-${i}`, typeflag: TYPEFLAG.file, data: enc.encode("x") });
    }
    archive.entry({ path: "after-pax", typeflag: TYPEFLAG.file, data: enc.encode("x") });
  }
  if (rng.chance(0.5)) archive.push(endOfArchive());
  let bytes = archive.bytes();

  const mutations = rng.chance(0.6) ? rng.int(1, 4) : 0;
  for (let i = 0; i < mutations; i++) {
    if (rng.chance(0.7) && archive.headers.length > 0) label.push(mutateHeader(rng, bytes, rng.pick(archive.headers)));
    else {
      const at = rng.int(0, bytes.length - 1);
      bytes[at]! ^= 1 << rng.int(0, 7);
      label.push(`bit flip @${at}`);
    }
  }
  switch (rng.int(0, 9)) {
    case 0:
      bytes = bytes.slice(0, rng.int(0, bytes.length));
      label.push(`truncated to ${bytes.length}`);
      break;
    case 1:
      bytes = concatBytes([bytes, rng.bytes(rng.int(1, 2048))]);
      label.push("garbage appended");
      break;
    case 2:
      bytes = rng.bytes(rng.int(1, 4096));
      label.length = 0;
      label.push("random bytes");
      break;
  }
  if (rng.chance(0.35)) {
    bytes = Bun.gzipSync(bytes as Uint8Array<ArrayBuffer>);
    label.push("gzip");
    if (rng.chance(0.25)) {
      if (rng.chance(0.5)) bytes = bytes.slice(0, rng.int(2, bytes.length));
      else bytes[rng.int(2, bytes.length - 1)]! ^= 1 << rng.int(0, 7);
      label.push("gzip stream damaged");
    }
  }
  return { label: label.join("; ") || "valid", bytes };
}
