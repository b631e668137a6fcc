/**
 * A small ustar writer for image root filesystems: directories, regular files (bytes in
 * memory or a host file streamed when its turn comes) and symlinks. Names longer than
 * ustar allows get a PAX extended header. Output is a pull-based ReadableStream, so a
 * 100 MB rootfs never sits in memory at once.
 */

interface EntryBase {
  /** Path inside the archive, without a leading "/" (e.g. "usr/local/bin/node"). */
  path: string;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; defaults to 0. */
  mtime?: number;
}

export type TarEntry =
  | (EntryBase & { type: "dir"; mode: number })
  | (EntryBase & { type: "file"; mode: number; data: Uint8Array })
  | (EntryBase & { type: "file"; mode: number; size: number; source: string })
  | (EntryBase & { type: "symlink"; target: string });

const BLOCK = 512;
const encoder = new TextEncoder();

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  return value.toString(8).padStart(width - 1, "0");
}

function put(header: Uint8Array, offset: number, width: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > width) throw new Error(`tar: field too long: ${text}`);
  header.set(bytes, offset);
}

/** Split a long path into ustar prefix (≤155 bytes) and name (≤100 bytes), if possible. */
function splitUstarPath(path: string): { prefix: string; name: string } | null {
  if (encoder.encode(path).length <= 100) return { prefix: "", name: path };
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100 && name) return { prefix, name };
  }
  return null;
}

/** A PAX record: "<len> key=value\n" where len counts the whole record. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = encoder.encode(body).length;
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length !== String(bodyLen).length) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

interface HeaderFields {
  name: string;
  prefix?: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname?: string;
}

export function ustarHeader(f: HeaderFields): Uint8Array {
  const h = new Uint8Array(BLOCK);
  put(h, 0, 100, f.name);
  put(h, 100, 8, octal(f.mode & 0o7777, 8));
  put(h, 108, 8, octal(f.uid, 8));
  put(h, 116, 8, octal(f.gid, 8));
  put(h, 124, 12, octal(f.size, 12));
  put(h, 136, 12, octal(Math.floor(f.mtime), 12));
  put(h, 148, 8, "        "); // checksum is computed over spaces here
  put(h, 156, 1, f.typeflag);
  put(h, 157, 100, f.linkname ?? "");
  put(h, 257, 6, "ustar\0");
  put(h, 263, 2, "00");
  put(h, 265, 32, f.uid === 0 ? "root" : "");
  put(h, 297, 32, f.gid === 0 ? "root" : "");
  put(h, 345, 155, f.prefix ?? "");
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, `${octal(sum, 7)}\0 `);
  return h;
}

function padding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}

/** The header block(s) of one entry: a PAX header first when a name does not fit ustar. */
export function entryHeaders(entry: TarEntry): Uint8Array[] {
  const isDir = entry.type === "dir";
  const path = isDir && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path;
  const size = entry.type === "file" ? ("data" in entry ? entry.data.length : entry.size) : 0;
  const linkname = entry.type === "symlink" ? entry.target : "";
  const split = splitUstarPath(path);
  const linkFits = encoder.encode(linkname).length <= 100;
  const blocks: Uint8Array[] = [];
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  const mtime = entry.mtime ?? 0;
  if (!split || !linkFits) {
    const records = (split ? "" : paxRecord("path", path)) + (linkFits ? "" : paxRecord("linkpath", linkname));
    const data = encoder.encode(records);
    blocks.push(
      ustarHeader({ name: "PaxHeader", mode: 0o644, uid, gid, size: data.length, mtime, typeflag: "x" }),
      data,
      padding(data.length),
    );
  }
  blocks.push(
    ustarHeader({
      name: split ? split.name : path.slice(-100),
      prefix: split?.prefix,
      mode: entry.type === "symlink" ? 0o777 : entry.mode,
      uid,
      gid,
      size,
      mtime,
      typeflag: entry.type === "dir" ? "5" : entry.type === "symlink" ? "2" : "0",
      linkname: linkFits ? linkname : linkname.slice(0, 100),
    }),
  );
  return blocks;
}

async function* tarChunks(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Uint8Array> {
  for await (const entry of entries) {
    yield* entryHeaders(entry);
    if (entry.type !== "file") continue;
    if ("data" in entry) {
      yield entry.data;
      yield padding(entry.data.length);
      continue;
    }
    let written = 0;
    for await (const chunk of Bun.file(entry.source).stream()) {
      written += chunk.length;
      if (written > entry.size) throw new Error(`tar: ${entry.source} grew while being archived`);
      yield chunk;
    }
    if (written !== entry.size) throw new Error(`tar: ${entry.source} shrank while being archived`);
    yield padding(entry.size);
  }
  yield new Uint8Array(BLOCK * 2); // end of archive
}

/** Stream a tar archive of `entries`, produced as the consumer reads. */
export function tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): ReadableStream<Uint8Array> {
  const chunks = tarChunks(entries);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Enqueue exactly one non-empty chunk per pull: a pull that enqueues nothing stalls the stream.
      for (;;) {
        const next = await chunks.next();
        if (next.done) return controller.close();
        if (next.value.length > 0) return controller.enqueue(next.value);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}
