/**
 * Tar encoding without I/O: Kiln's one header encoder (ustar, with pax records where ustar falls
 * short). The dashboard packs a dropped folder with it in the browser; the CLI, the tests, build
 * contexts and the base image's root filesystem (adapters/docker/rootfs-tar.ts) use it too.
 * Long paths and link targets go through ustar's prefix field or a pax header; sizes beyond the
 * octal field through pax as well.
 */
import { BLOCK, FIELD, TYPEFLAG, type TarEntryType, headerChecksum, paddingFor } from "./format.ts";
import { concatBytes } from "./bytes.ts";

export interface TarInputEntry {
  path: string;
  type: Exclude<TarEntryType, "unsupported">;
  /** Permission bits; default 0o644 for files, 0o755 for directories, 0o777 for symlinks. */
  mode?: number;
  /** Seconds since the epoch; default 0. */
  mtime?: number;
  /** File content. */
  data?: Uint8Array | string;
  /** Symlink target or hardlink source. */
  linkname?: string;
}

const encoder = new TextEncoder();
const MAX_OCTAL_SIZE = 0o77777777777; // 11 octal digits

export interface HeaderFields {
  path: string;
  /** TYPEFLAG's character ("0" file, "5" directory, ...). */
  typeflag: string;
  mode: number;
  /** Bytes of data that follow the header. */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  /** Owner; default 0 and no names. */
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
}

/** The header block(s) for one entry: an optional pax header, then the ustar header. */
export function encodeHeader(e: HeaderFields): Uint8Array {
  const pax: Record<string, string> = {};
  const names = splitUstarName(e.path);
  if (!names) pax.path = e.path;
  const linkname = e.linkname ?? "";
  if (encoder.encode(linkname).length > FIELD.linkname[1]) pax.linkpath = linkname;
  if (e.size > MAX_OCTAL_SIZE) pax.size = String(e.size);

  const blocks: Uint8Array[] = [];
  if (Object.keys(pax).length > 0) {
    const body = encodePax(pax);
    const base = e.path.split("/").filter(Boolean).pop() ?? "entry";
    blocks.push(
      ustarBlock({ name: truncateBytes(`PaxHeader/${base}`, 100), prefix: "", typeflag: "x", mode: 0o644, size: body.length, mtime: e.mtime, linkname: "", uid: 0, gid: 0, uname: "", gname: "" }),
      body,
      new Uint8Array(paddingFor(body.length)),
    );
  }
  blocks.push(
    ustarBlock({
      name: names ? names.name : truncateBytes(e.path, 100),
      prefix: names ? names.prefix : "",
      typeflag: e.typeflag,
      mode: e.mode,
      size: e.size > MAX_OCTAL_SIZE ? 0 : e.size,
      mtime: e.mtime,
      linkname: pax.linkpath ? truncateBytes(linkname, 100) : linkname,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      uname: e.uname ?? "",
      gname: e.gname ?? "",
    }),
  );
  return concatBytes(blocks);
}

/** One complete entry: header(s), data, padding. */
export function encodeEntry(e: TarInputEntry): Uint8Array {
  const data = typeof e.data === "string" ? encoder.encode(e.data) : (e.data ?? new Uint8Array(0));
  const header = encodeHeader({
    path: e.path,
    typeflag: TYPEFLAG[e.type],
    mode: e.mode ?? (e.type === "directory" ? 0o755 : e.type === "symlink" ? 0o777 : 0o644),
    size: data.length,
    mtime: e.mtime ?? 0,
    linkname: e.linkname,
  });
  return concatBytes([header, data, new Uint8Array(paddingFor(data.length))]);
}

/** The end-of-archive marker: two zero blocks. */
export function endOfArchive(): Uint8Array {
  return new Uint8Array(BLOCK * 2);
}

/** A whole archive from a list of entries, in the given order. */
export function encodeTarBytes(entries: TarInputEntry[]): Uint8Array<ArrayBuffer> {
  return concatBytes([...entries.map(encodeEntry), endOfArchive()]);
}

/** Split a path into ustar prefix (≤155 bytes) and name (≤100 bytes) at a '/', or null. */
function splitUstarName(path: string): { prefix: string; name: string } | null {
  const bytes = encoder.encode(path);
  if (bytes.length <= FIELD.name[1]) return { prefix: "", name: path };
  if (bytes.length > FIELD.prefix[1] + 1 + FIELD.name[1]) return null;
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== "/") continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    const nameLen = encoder.encode(name).length;
    if (nameLen > FIELD.name[1]) return null;
    if (nameLen > 0 && encoder.encode(prefix).length <= FIELD.prefix[1]) return { prefix, name };
  }
  return null;
}

function truncateBytes(text: string, max: number): string {
  let out = text;
  while (encoder.encode(out).length > max) out = out.slice(0, -1);
  return out;
}

function encodePax(records: Record<string, string>): Uint8Array {
  return encoder.encode(Object.entries(records).map(([key, value]) => paxRecord(key, value)).join(""));
}

/** One pax record, "<len> key=value\n", where len counts the whole record in bytes. */
export function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restLen = encoder.encode(rest).length;
  let len = restLen + String(restLen).length;
  if (String(len).length + restLen !== len) len = String(len).length + restLen;
  return `${len}${rest}`;
}

interface UstarFields {
  name: string;
  prefix: string;
  typeflag: string;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
}

function ustarBlock(f: UstarFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, FIELD.name, f.name);
  writeOctal(block, FIELD.mode, f.mode & 0o7777);
  writeOctal(block, FIELD.uid, f.uid);
  writeOctal(block, FIELD.gid, f.gid);
  writeOctal(block, FIELD.size, f.size);
  writeOctal(block, FIELD.mtime, Math.max(0, Math.min(Math.floor(f.mtime), MAX_OCTAL_SIZE)));
  block[FIELD.typeflag[0]] = f.typeflag.charCodeAt(0);
  writeString(block, FIELD.linkname, f.linkname);
  writeString(block, FIELD.magic, "ustar\0");
  writeString(block, FIELD.version, "00");
  writeString(block, FIELD.uname, f.uname);
  writeString(block, FIELD.gname, f.gname);
  writeOctal(block, FIELD.devmajor, 0);
  writeOctal(block, FIELD.devminor, 0);
  writeString(block, FIELD.prefix, f.prefix);
  const sum = headerChecksum(block);
  writeString(block, FIELD.checksum, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function writeString(block: Uint8Array, [off, len]: readonly [number, number], text: string): void {
  const bytes = encoder.encode(text);
  block.set(bytes.subarray(0, len), off);
}

function writeOctal(block: Uint8Array, spec: readonly [number, number], n: number): void {
  const digits = n.toString(8).padStart(spec[1] - 1, "0");
  if (digits.length > spec[1] - 1) throw new Error(`tar: ${n} does not fit a ${spec[1]}-byte octal field`);
  writeString(block, spec, `${digits}\0`);
}

