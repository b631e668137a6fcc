/**
 * Build contexts: the source tree as a tar stream (packed by an injected `PackDir`, by default
 * packDirectoryStream), filtered by its .dockerignore, plus files Kiln adds — a generated
 * Dockerfile — put in front of the packed tree, so the user's directory is never written to.
 */
import { encodeEntry, encodeTar } from "../../formats/tar/writer.ts";
import { concatBytes } from "../../formats/tar/bytes.ts";
import { dockerignoreMatcher, parseDockerignore, type IgnorePredicate } from "../../formats/ignore.ts";
import { readBeneath, readdirBeneath } from "../fs/beneath.ts";
import { packDirectoryStream } from "../fs/pack-directory.ts";

export type ContextArchive = Uint8Array | ReadableStream<Uint8Array>;

export interface PackOptions {
  /** Return true to leave a path out (relative, '/'-separated; a directory's subtree goes too). */
  ignore?: IgnorePredicate;
  /** Put the tree under this folder of the archive (see pack-directory.ts). */
  prefix?: string;
}

/** Packs the contents of `dir` into a tar archive (or stream). */
export type PackDir = (dir: string, opts: PackOptions) => ContextArchive | Promise<ContextArchive>;

export const defaultPackDir: PackDir = (dir, opts) => packDirectoryStream(dir, { ignore: opts.ignore, prefix: opts.prefix });

/**
 * What `<dir>/.dockerignore` leaves out of the context (no file: nothing), after `defaults`:
 * patterns Kiln applies first, which the file may re-include with `!`. A line Docker would
 * reject fails with a bad_request naming the line.
 */
export async function loadDockerignore(dir: string, defaults: readonly string[] = []): Promise<IgnorePredicate> {
  const text = (await readBeneath(dir, ".dockerignore")) ?? "";
  return dockerignoreMatcher([...parseDockerignore(defaults.join("\n"), "Kiln's default ignore list"), ...parseDockerignore(text, ".dockerignore")]);
}

/** A fixed mtime for the files Kiln adds, so identical content gives identical archives. */
const ADDED_MTIME = 946684800; // 2000-01-01

/** Tar entries for `files` (path → text) and their parent directories, without an end marker. */
export function fileEntries(files: Record<string, string>): Uint8Array {
  const chunks: Uint8Array[] = [];
  const dirs = new Set<string>();
  for (const [path, text] of Object.entries(files)) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      chunks.push(encodeEntry({ path: `${dir}/`, type: "directory", mode: 0o755, mtime: ADDED_MTIME }));
    }
    chunks.push(encodeEntry({ path, type: "file", mode: 0o644, mtime: ADDED_MTIME, data: text }));
  }
  return concatBytes(chunks);
}

/** `archive` with `files` in front of it (the archive keeps its own end marker). */
export function withFilesInFront(files: Record<string, string>, archive: ContextArchive): ContextArchive {
  const head = fileEntries(files);
  if (archive instanceof Uint8Array) return concatBytes([head, archive]);
  const reader = archive.getReader();
  let headSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headSent) {
        headSent = true;
        controller.enqueue(head);
        return;
      }
      const r = await reader.read();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** A complete archive holding only `files`. */
export function filesArchive(files: Record<string, string>): Uint8Array {
  return encodeTar(Object.entries(files).map(([path, data]) => ({ path, type: "file" as const, mode: 0o644, mtime: ADDED_MTIME, data })));
}

/** A top-level name for Kiln's files that the source tree does not use: `.kiln`, else `.kiln-2`, … */
export async function freeContextDir(srcDir: string, base = ".kiln"): Promise<string> {
  const used = new Set((await readdirBeneath(srcDir)).map((e) => e.name));
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (!used.has(name)) return name;
  }
}

