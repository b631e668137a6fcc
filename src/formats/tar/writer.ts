/**
 * A tar writer for Bun (server, CLI, tests): `encodeTar` turns a list of entries into archive
 * bytes exactly as given, gzipped on request (no path validation: tests use it to build hostile
 * archives). The encoding itself is encode.ts, which the browser uses directly; packing a
 * directory from disk is adapters/fs/pack-directory.ts.
 */
import { encodeTarBytes, type TarInputEntry } from "./encode.ts";

export { encodeEntry, encodeHeader, encodeTarBytes, endOfArchive, type TarInputEntry } from "./encode.ts";

/** A whole archive from a list of entries, in the given order (gzipped on request). */
export function encodeTar(entries: TarInputEntry[], opts: { gzip?: boolean } = {}): Uint8Array {
  const tar = encodeTarBytes(entries);
  return opts.gzip ? Bun.gzipSync(tar) : tar;
}
