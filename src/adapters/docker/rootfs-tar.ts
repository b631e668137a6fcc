/**
 * Streams an image root filesystem as tar: directories, regular files (bytes in memory, or a
 * host file read when its turn comes) and symlinks, with owners. The headers come from the one
 * tar encoder (formats/tar/encode.ts: ustar, pax for long names and link targets); this module
 * only maps entries onto it and streams the host files. Output is a pull-based ReadableStream,
 * so a 100 MB rootfs never sits in memory at once.
 */
import { encodeHeader, endOfArchive } from "../../formats/tar/encode.ts";
import { TYPEFLAG, paddingFor } from "../../formats/tar/format.ts";
import { hostFileChunks } from "../fs/pack-directory.ts";

interface EntryBase {
  /** Path inside the archive, without a leading "/" (e.g. "usr/local/bin/node"). */
  path: string;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; defaults to 0. */
  mtime?: number;
}

export type RootfsEntry =
  | (EntryBase & { type: "dir"; mode: number })
  | (EntryBase & { type: "file"; mode: number; data: Uint8Array })
  | (EntryBase & { type: "file"; mode: number; size: number; source: string })
  | (EntryBase & { type: "symlink"; target: string });

/** The header block(s) of one entry (a pax header first when a name does not fit ustar). */
export function entryHeader(entry: RootfsEntry): Uint8Array {
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  const common = { uid, gid, uname: uid === 0 ? "root" : "", gname: gid === 0 ? "root" : "", mtime: entry.mtime ?? 0 };
  switch (entry.type) {
    case "dir":
      return encodeHeader({ ...common, path: entry.path.endsWith("/") ? entry.path : `${entry.path}/`, typeflag: TYPEFLAG.directory, mode: entry.mode, size: 0 });
    case "symlink":
      return encodeHeader({ ...common, path: entry.path, typeflag: TYPEFLAG.symlink, mode: 0o777, size: 0, linkname: entry.target });
    case "file":
      return encodeHeader({ ...common, path: entry.path, typeflag: TYPEFLAG.file, mode: entry.mode, size: "data" in entry ? entry.data.length : entry.size });
  }
}

async function* tarChunks(entries: Iterable<RootfsEntry> | AsyncIterable<RootfsEntry>): AsyncGenerator<Uint8Array> {
  for await (const entry of entries) {
    yield entryHeader(entry);
    if (entry.type !== "file") continue;
    const size = "data" in entry ? entry.data.length : entry.size;
    if ("data" in entry) yield entry.data;
    else yield* hostFileChunks(entry.source, size, entry.source);
    yield new Uint8Array(paddingFor(size));
  }
  yield endOfArchive();
}

/** Stream a tar archive of `entries`, produced as the consumer reads. */
export function tarStream(entries: Iterable<RootfsEntry> | AsyncIterable<RootfsEntry>): ReadableStream<Uint8Array> {
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
