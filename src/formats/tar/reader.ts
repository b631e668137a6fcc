/**
 * A streaming tar reader: ustar, pax ('x' and 'g' headers: path, linkpath, size, mtime) and GNU
 * ('L'/'K' long names, base-256 numbers). A gzip-compressed input is detected by its magic bytes
 * and decompressed on the fly, so a caller that stops early never inflates the rest.
 *
 * Entries are yielded one at a time; each entry's data must be read (or is skipped) before the
 * next one. The reader validates the archive's structure, never the paths: that is the caller's
 * job (see src/adapters/sources/tarball.ts).
 *
 * Metadata is bounded, so a hostile archive cannot take memory or CPU with it (META_CAPS): one pax
 * header ≤ 1 MiB, a GNU long name ≤ 64 KiB, ≤ 16 metadata headers before an entry, ≤ 16 global
 * headers and ≤ 32 MiB of metadata in all. Only the pax keys the reader uses are kept.
 */
import { BLOCK, FIELD, type TarEntry, headerChecksum, paddingFor, typeFromFlag } from "./format.ts";
import { concatBytes } from "./bytes.ts";

export type { TarEntry, TarEntryType } from "./format.ts";

/** The input is not a readable tar (or gzip) archive. */
export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TarFormatError";
  }
}

export interface TarItem {
  entry: TarEntry;
  /** The entry's data in chunks. Readable once, before the iteration moves on. */
  body(): AsyncIterable<Uint8Array>;
  /** The entry's data in one buffer. */
  bytes(): Promise<Uint8Array>;
}

/** Caps on an archive's metadata headers; over one, the archive is refused (TarFormatError). */
export const META_CAPS = {
  /** One pax header's records ('x' or 'g'). */
  paxBytes: 1024 * 1024,
  /** One GNU long name or link target ('L', 'K'); PATH_MAX is 4 KiB. */
  longNameBytes: 64 * 1024,
  /** Metadata headers in a row before a real entry. */
  chain: 16,
  /** Global pax headers ('g') in the whole archive. */
  globalHeaders: 16,
  /** All metadata headers' bytes in the whole archive (tens of thousands of long paths fit). */
  totalBytes: 32 * 1024 * 1024,
} as const;

/** The pax keys the reader applies; others (xattrs, comments, uid…) are parsed and dropped. */
const PAX_KEYS = ["path", "linkpath", "size", "mtime"] as const;
type Pax = Partial<Record<(typeof PAX_KEYS)[number], string>>;

export type TarInput = ReadableStream<Uint8Array> | Uint8Array;

/** Iterate over the entries of a tar or tar.gz archive. */
export async function* readTar(input: TarInput): AsyncGenerator<TarItem> {
  const source = await maybeGunzip(input instanceof Uint8Array ? bytesStream(input) : input);
  const reader = new ByteReader(source);
  const global: Pax = {};
  let local: Pax = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let metaChain = 0;
  let globals = 0;
  let metaTotal = 0;
  let offset = 0;
  try {
    while (true) {
      const block = await reader.readExact(BLOCK);
      if (block === null) return; // EOF without end marker: accept, like GNU tar
      offset += BLOCK;
      if (isZeroBlock(block)) return; // end-of-archive marker
      const header = parseHeader(block, offset - BLOCK);
      const size = header.size;

      if (header.typeflag === "x" || header.typeflag === "g" || header.typeflag === "L" || header.typeflag === "K") {
        checkMeta(header.typeflag, size, { chain: ++metaChain, globals: header.typeflag === "g" ? ++globals : globals, total: (metaTotal += size) });
        const data = await reader.readExact(size + paddingFor(size));
        if (data === null || data.length < size) throw new TarFormatError("archive is truncated");
        offset += data.length;
        const content = data.subarray(0, size);
        if (header.typeflag === "x") Object.assign(local, parsePax(content, PAX_KEYS));
        else if (header.typeflag === "g") Object.assign(global, parsePax(content, PAX_KEYS));
        else if (header.typeflag === "L") longName = cString(content);
        else longLink = cString(content);
        continue;
      }
      metaChain = 0;

      const pax: Pax = { ...global, ...local };
      const entry: TarEntry = {
        path: pax.path ?? longName ?? header.path,
        type: typeFromFlag(header.typeflag),
        typeflag: header.typeflag,
        mode: header.mode,
        size: pax.size !== undefined ? paxSize(pax.size) : size,
        mtime: pax.mtime !== undefined ? Math.floor(parsePaxNumber(pax.mtime, "mtime")) : header.mtime,
        linkname: pax.linkpath ?? longLink ?? header.linkname,
      };
      if (entry.type === "file" && entry.path.endsWith("/")) entry.type = "directory"; // pre-POSIX dirs
      local = {};
      longName = undefined;
      longLink = undefined;

      let remaining = entry.size;
      let consumed = false;
      const body = async function* (): AsyncGenerator<Uint8Array> {
        if (consumed) throw new Error(`the data of tar entry "${entry.path}" was already read`);
        consumed = true;
        while (remaining > 0) {
          const chunk = await reader.readSome(remaining);
          if (chunk === null) throw new TarFormatError("archive is truncated");
          remaining -= chunk.length;
          yield chunk;
        }
      };
      const bytes = async () => {
        const out = new Uint8Array(remaining);
        let at = 0;
        for await (const chunk of body()) {
          out.set(chunk, at);
          at += chunk.length;
        }
        return out;
      };
      yield { entry, body, bytes };

      // Skip what the consumer did not read, then the padding.
      const skip = remaining + paddingFor(entry.size);
      if (!(await reader.skip(skip))) throw new TarFormatError("archive is truncated");
      offset += entry.size + paddingFor(entry.size);
      remaining = 0;
    }
  } finally {
    await reader.close();
  }
}

/** Read every entry with its data into memory (small archives, tests). */
export async function readTarEntries(input: TarInput): Promise<Array<{ entry: TarEntry; data: Uint8Array }>> {
  const out: Array<{ entry: TarEntry; data: Uint8Array }> = [];
  for await (const item of readTar(input)) out.push({ entry: item.entry, data: await item.bytes() });
  return out;
}

const MiB = (n: number) => `${n / (1024 * 1024)} MiB`;

/** Refuse a metadata header over a cap, before its data is read. */
function checkMeta(typeflag: string, size: number, seen: { chain: number; globals: number; total: number }): void {
  const pax = typeflag === "x" || typeflag === "g";
  const cap = pax ? META_CAPS.paxBytes : META_CAPS.longNameBytes;
  if (size > cap) {
    const what = pax ? "a pax header" : `a GNU long ${typeflag === "L" ? "name" : "link name"}`;
    throw new TarFormatError(`${what} of ${size} bytes is over the ${pax ? MiB(cap) : `${cap / 1024} KiB`} cap`);
  }
  if (seen.chain > META_CAPS.chain) throw new TarFormatError(`more than ${META_CAPS.chain} extended headers in a row`);
  if (seen.globals > META_CAPS.globalHeaders) throw new TarFormatError(`more than ${META_CAPS.globalHeaders} global pax headers`);
  if (seen.total > META_CAPS.totalBytes) throw new TarFormatError(`the extended headers add up to more than the ${MiB(META_CAPS.totalBytes)} cap`);
}

interface RawHeader {
  path: string;
  typeflag: string;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
}

function parseHeader(block: Uint8Array, at: number): RawHeader {
  const stored = readNumber(block, FIELD.checksum, "checksum", at);
  if (stored !== headerChecksum(block) && stored !== headerChecksum(block, true)) {
    throw new TarFormatError(`bad header checksum at byte ${at} (not a tar archive, or corrupted)`);
  }
  const magic = field(block, FIELD.magic);
  const isUstar = cString(magic) === "ustar" && magic[5] === 0 && field(block, FIELD.version)[0] === 0x30;
  const name = cString(field(block, FIELD.name));
  const prefix = isUstar ? cString(field(block, FIELD.prefix)) : "";
  const flagByte = block[FIELD.typeflag[0]]!;
  return {
    path: prefix ? `${prefix}/${name}` : name,
    typeflag: String.fromCharCode(flagByte),
    mode: readNumber(block, FIELD.mode, "mode", at) & 0o7777,
    size: readNumber(block, FIELD.size, "size", at),
    mtime: readNumber(block, FIELD.mtime, "mtime", at),
    linkname: cString(field(block, FIELD.linkname)),
  };
}

function field(block: Uint8Array, [off, len]: readonly [number, number]): Uint8Array {
  return block.subarray(off, off + len);
}

/** Octal (NUL/space padded) or GNU base-256 (high bit of the first byte set). */
function readNumber(block: Uint8Array, spec: readonly [number, number], name: string, at: number): number {
  const bytes = field(block, spec);
  if (bytes[0]! & 0x80) {
    if (bytes[0] === 0xff) throw new TarFormatError(`negative ${name} in header at byte ${at}`);
    let n = bytes[0]! & 0x7f;
    for (let i = 1; i < bytes.length; i++) n = n * 256 + bytes[i]!;
    if (!Number.isSafeInteger(n)) throw new TarFormatError(`${name} too large in header at byte ${at}`);
    return n;
  }
  const text = new TextDecoder().decode(bytes).replace(/[\0 ]+$/, "").replace(/^[ ]+/, "").replace(/\0.*$/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad ${name} field in header at byte ${at}`);
  return parseInt(text, 8);
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function isZeroBlock(block: Uint8Array): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

/**
 * pax records: "<len> <key>=<value>\n", len counting the whole record in bytes. With `keep`, only
 * those keys are decoded and returned (the others are checked and skipped, cheaply).
 */
export function parsePax(data: Uint8Array, keep?: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const decoder = new TextDecoder();
  const malformed = () => new TarFormatError("malformed pax header");
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // some writers pad with NULs
    let len = 0;
    let space = i;
    for (; space < data.length && space - i < 16 && data[space]! >= 0x30 && data[space]! <= 0x39; space++) len = len * 10 + data[space]! - 0x30;
    if (space === i || data[space] !== 0x20) throw malformed();
    const end = i + len - 1; // the record's "\n"
    if (len <= space - i + 1 || i + len > data.length || data[end] !== 0x0a) throw malformed();
    const eq = data.indexOf(0x3d, space + 1);
    if (eq <= space + 1 || eq >= end) throw malformed();
    const key = decoder.decode(data.subarray(space + 1, eq));
    if (!keep || keep.includes(key)) out[key] = decoder.decode(data.subarray(eq + 1, end));
    i += len;
  }
  return out;
}

/** A size is a whole number of bytes: a fraction ("1.5") would leave reads that never finish. */
function paxSize(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new TarFormatError(`bad pax size "${text.slice(0, 40)}"`);
  return parsePaxNumber(text, "size");
}

function parsePaxNumber(text: string, name: string): number {
  if (!/^[0-9]+(\.[0-9]*)?$/.test(text)) throw new TarFormatError(`bad pax ${name} "${text}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(Math.floor(n))) throw new TarFormatError(`pax ${name} too large`);
  return n;
}

function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** Look at the first two bytes; if they are the gzip magic (1f 8b), decompress on the fly. */
async function maybeGunzip(stream: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = stream.getReader();
  const head: Uint8Array[] = [];
  let headLength = 0;
  let done = false;
  while (headLength < 2) {
    const r = await reader.read();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    headLength += r.value.length;
  }
  const replay = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of head) controller.enqueue(chunk);
      if (done) controller.close();
    },
    async pull(controller) {
      const r = await reader.read();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const first = concatBytes(head);
  if (first[0] === 0x1f && first[1] === 0x8b) {
    return replay.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  }
  return replay;
}


type ReadResult = { done: true; value?: undefined } | { done: false; value: Uint8Array };
interface StreamReader {
  read(): Promise<ReadResult>;
  cancel(): Promise<void>;
}

/** Exact-length reads over a chunked stream. Decompression failures become TarFormatError. */
class ByteReader {
  readonly #reader: StreamReader;
  #buf: Uint8Array = new Uint8Array(0);
  #eof = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader() as unknown as StreamReader;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    let r: ReadResult;
    try {
      r = await this.#reader.read();
    } catch (err) {
      throw new TarFormatError(`could not decompress: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (r.done) {
      this.#eof = true;
      return false;
    }
    this.#buf = this.#buf.length === 0 ? r.value : concatBytes([this.#buf, r.value]);
    return true;
  }

  /** Exactly n bytes; null at a clean EOF (nothing buffered); throws if EOF cuts a block. */
  async readExact(n: number): Promise<Uint8Array | null> {
    while (this.#buf.length < n) {
      if (!(await this.#fill())) {
        if (this.#buf.length === 0) return null;
        throw new TarFormatError("archive is truncated");
      }
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Between 1 and max bytes; null at EOF. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (this.#buf.length === 0 && !(await this.#fill())) return null;
    const n = Math.min(max, this.#buf.length);
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Drop n bytes; false if EOF came first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#fill())) return false;
      const k = Math.min(left, this.#buf.length);
      this.#buf = this.#buf.subarray(k);
      left -= k;
    }
    return true;
  }

  async close(): Promise<void> {
    try {
      await this.#reader.cancel();
    } catch {
      // already errored or closed
    }
  }
}
