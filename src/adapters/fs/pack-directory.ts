/**
 * Packs a directory from the host's filesystem as a tar stream (the header encoding is
 * formats/tar/encode.ts). `packDirectory` / `packDirectoryStream` walk regular files,
 * directories and symlinks, with their modes, in a deterministic order (byte-wise sorted,
 * parents first), skipping what `ignore` rejects; a directory it rejects is not entered.
 * `hostFileChunks` streams one file's bytes, failing when the file changed size meanwhile.
 * Symlinks are packed as symlinks and never read through: directories are entered only when
 * lstat says so, and a file is opened with O_NOFOLLOW (a file swapped for a link fails the pack).
 * This is I/O, so it lives outside formats/ (which the browser imports).
 */
import { constants } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { TYPEFLAG, paddingFor } from "../../formats/tar/format.ts";
import { encodeHeader, endOfArchive } from "../../formats/tar/encode.ts";

export interface PackOptions {
  /** Return true to leave a path out (relative, '/'-separated; a directory's subtree goes too). */
  ignore?: (relPath: string, info: { isDirectory: boolean }) => boolean;
  /** Stamp every entry with this mtime (seconds) instead of the file's, for byte-identical output. */
  mtime?: number;
  gzip?: boolean;
  /**
   * Put the tree under this folder of the archive (a plain name), so files added beside it (a
   * build's Dockerfile) stay out of a `COPY <prefix>/ .`. `ignore` still sees paths without it.
   */
  prefix?: string;
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
  if (opts.prefix !== undefined) {
    if (!/^[A-Za-z0-9_.-]+$/.test(opts.prefix) || opts.prefix === "." || opts.prefix === "..") throw new Error(`not a plain folder name: ${JSON.stringify(opts.prefix)}`);
    const st = await lstat(root);
    yield encodeHeader({ path: `${opts.prefix}/`, typeflag: TYPEFLAG.directory, mode: st.mode & 0o7777, size: 0, mtime: opts.mtime ?? Math.floor(st.mtimeMs / 1000) });
  }
  yield* walk(root, "", opts);
  yield endOfArchive();
}

async function* walk(root: string, rel: string, opts: PackOptions): AsyncGenerator<Uint8Array> {
  const names = (await readdir(rel ? join(root, rel) : root)).sort(compareBytes);
  for (const name of names) {
    const relPath = rel ? `${rel}/${name}` : name;
    const abs = join(root, relPath);
    const inArchive = opts.prefix !== undefined ? `${opts.prefix}/${relPath}` : relPath;
    const st = await lstat(abs);
    const isDirectory = st.isDirectory();
    if (opts.ignore?.(relPath, { isDirectory })) continue;
    const mtime = opts.mtime ?? Math.floor(st.mtimeMs / 1000);
    const mode = st.mode & 0o7777;
    if (isDirectory) {
      yield encodeHeader({ path: `${inArchive}/`, typeflag: TYPEFLAG.directory, mode, size: 0, mtime });
      yield* walk(root, relPath, opts);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(abs);
      yield encodeHeader({ path: inArchive, typeflag: TYPEFLAG.symlink, mode, size: 0, mtime, linkname: target });
    } else if (st.isFile()) {
      yield encodeHeader({ path: inArchive, typeflag: TYPEFLAG.file, mode, size: st.size, mtime });
      yield* hostFileChunks(abs, st.size, relPath, { noFollow: true });
      const pad = paddingFor(st.size);
      if (pad > 0) yield new Uint8Array(pad);
    }
    // sockets, fifos and devices are not source files: skipped
  }
}

/**
 * Exactly `size` bytes of the file at `abs`; a file that changes size meanwhile is an error naming
 * `label`. With `noFollow`, a symlink at `abs` (or anything but a regular file) is an error too.
 */
export async function* hostFileChunks(abs: string, size: number, label: string, opts: { noFollow?: boolean } = {}): AsyncGenerator<Uint8Array> {
  let sent = 0;
  const handle = opts.noFollow ? await openRegularNoFollow(abs, label) : null;
  try {
    for await (const chunk of (handle ? Bun.file(handle.fd) : Bun.file(abs)).stream()) {
      if (sent + chunk.length > size) throw new Error(`"${label}" grew while it was being packed`);
      sent += chunk.length;
      yield chunk;
    }
  } finally {
    await handle?.close();
  }
  if (sent !== size) throw new Error(`"${label}" shrank while it was being packed`);
}

async function openRegularNoFollow(abs: string, label: string) {
  const handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`"${label}" changed while it was being packed (${err.code ?? "open failed"})`);
  });
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new Error(`"${label}" changed while it was being packed (no longer a regular file)`);
  }
  return handle;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
