/**
 * A tar writer. `encodeTar` turns a list of entries into archive bytes exactly as given (no path
 * validation: tests use it to build hostile archives). `packDirectory` / `packDirectoryStream`
 * walk a directory — regular files, directories and symlinks, with their modes — in a
 * deterministic order (byte-wise sorted, parents first), skipping what `ignore` rejects.
 *
 * Long paths and link targets go through ustar's prefix field or a pax header; sizes beyond
 * the octal field through pax as well.
 */
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
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

/** The header block(s) for one entry: an optional pax header, then the ustar header. */
export function encodeHeader(e: { path: string; typeflag: string; mode: number; size: number; mtime: number; linkname?: string }): Uint8Array {
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
      ustarBlock({ name: truncateBytes(`PaxHeader/${base}`, 100), prefix: "", typeflag: "x", mode: 0o644, size: body.length, mtime: e.mtime, linkname: "" }),
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
export function encodeTar(entries: TarInputEntry[], opts: { gzip?: boolean } = {}): Uint8Array {
  const tar = concatBytes([...entries.map(encodeEntry), endOfArchive()]);
  return opts.gzip ? Bun.gzipSync(tar) : tar;
}

export interface PackOptions {
  /** Return true to leave a path out (relative, '/'-separated; a directory's subtree goes too). */
  ignore?: (relPath: string, info: { isDirectory: boolean }) => boolean;
  /** Stamp every entry with this mtime (seconds) instead of the file's, for byte-identical output. */
  mtime?: number;
  gzip?: boolean;
}

/** Pack the contents of `root` (not `root` itself) as a stream of tar bytes. */
export function packDirectoryStream(root: string, opts: PackOptions = {}): ReadableStream<Uint8Array> {
  const iterator = packChunks(root, opts);
  const tar = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await iterator.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
  return opts.gzip ? tar.pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>) : tar;
}

/** Pack the contents of `root` into one buffer. */
export async function packDirectory(root: string, opts: PackOptions = {}): Promise<Uint8Array> {
  return new Uint8Array(await new Response(packDirectoryStream(root, opts)).arrayBuffer());
}

async function* packChunks(root: string, opts: PackOptions): AsyncGenerator<Uint8Array> {
  yield* walk(root, "", opts);
  yield endOfArchive();
}

async function* walk(root: string, rel: string, opts: PackOptions): AsyncGenerator<Uint8Array> {
  const names = (await readdir(rel ? join(root, rel) : root)).sort(compareBytes);
  for (const name of names) {
    const relPath = rel ? `${rel}/${name}` : name;
    const abs = join(root, relPath);
    const st = await lstat(abs);
    const isDirectory = st.isDirectory();
    if (opts.ignore?.(relPath, { isDirectory })) continue;
    const mtime = opts.mtime ?? Math.floor(st.mtimeMs / 1000);
    const mode = st.mode & 0o7777;
    if (isDirectory) {
      yield encodeHeader({ path: `${relPath}/`, typeflag: TYPEFLAG.directory, mode, size: 0, mtime });
      yield* walk(root, relPath, opts);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(abs);
      yield encodeHeader({ path: relPath, typeflag: TYPEFLAG.symlink, mode, size: 0, mtime, linkname: target });
    } else if (st.isFile()) {
      yield encodeHeader({ path: relPath, typeflag: TYPEFLAG.file, mode, size: st.size, mtime });
      yield* fileChunks(abs, st.size, relPath);
      const pad = paddingFor(st.size);
      if (pad > 0) yield new Uint8Array(pad);
    }
    // sockets, fifos and devices are not source files: skipped
  }
}

/** Exactly `size` bytes of the file; a file that changes size while packing is an error. */
async function* fileChunks(abs: string, size: number, relPath: string): AsyncGenerator<Uint8Array> {
  let sent = 0;
  for await (const chunk of Bun.file(abs).stream()) {
    if (sent + chunk.length > size) throw new Error(`"${relPath}" grew while it was being packed`);
    sent += chunk.length;
    yield chunk;
  }
  if (sent !== size) throw new Error(`"${relPath}" shrank while it was being packed`);
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
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
  let text = "";
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    const restLen = encoder.encode(rest).length;
    let len = restLen + String(restLen).length;
    if (String(len).length + restLen !== len) len = String(len).length + restLen;
    text += `${len}${rest}`;
  }
  return encoder.encode(text);
}

interface UstarFields {
  name: string;
  prefix: string;
  typeflag: string;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
}

function ustarBlock(f: UstarFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, FIELD.name, f.name);
  writeOctal(block, FIELD.mode, f.mode & 0o7777);
  writeOctal(block, FIELD.uid, 0);
  writeOctal(block, FIELD.gid, 0);
  writeOctal(block, FIELD.size, f.size);
  writeOctal(block, FIELD.mtime, Math.max(0, Math.min(f.mtime, MAX_OCTAL_SIZE)));
  block[FIELD.typeflag[0]] = f.typeflag.charCodeAt(0);
  writeString(block, FIELD.linkname, f.linkname);
  writeString(block, FIELD.magic, "ustar\0");
  writeString(block, FIELD.version, "00");
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
  writeString(block, spec, `${n.toString(8).padStart(spec[1] - 1, "0")}\0`);
}

