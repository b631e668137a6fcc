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
import { TYPEFLAG, paddingFor } from "./format.ts";
import { encodeHeader, encodeTarBytes, endOfArchive, type TarInputEntry } from "./encode.ts";

export { encodeEntry, encodeHeader, encodeTarBytes, endOfArchive, type TarInputEntry } from "./encode.ts";

/** A whole archive from a list of entries, in the given order (gzipped on request). */
export function encodeTar(entries: TarInputEntry[], opts: { gzip?: boolean } = {}): Uint8Array {
  const tar = encodeTarBytes(entries);
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
