/**
 * Unpack an uploaded tar / tar.gz into a fresh source directory. Extraction is as-is (no
 * top-level wrapper is stripped, only a leading "./"), into a temp sibling that is renamed into
 * place on success. Anything that could touch the filesystem outside the tree is refused:
 * absolute or '..' paths, symlinks resolving outside, hard links to anything but a file
 * extracted earlier, devices and fifos, and writes through a symlink. Caps bound the total
 * size, the entry count and path lengths. Exec bits are kept; other mode bits normalized.
 */
import { constants } from "node:fs";
import { link, mkdir, open, symlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { KilnError, StepError } from "../../core/errors.ts";
import type { LogSink } from "../../core/logs.ts";
import type { FetchRequest, FetchResult, SourceFetcher } from "../../core/ports/source.ts";
import { TarFormatError, type TarInput, type TarItem, readTar } from "../../formats/tar/reader.ts";
import { fillNewDir } from "./safe-dir.ts";
import {
  DEFAULT_TARBALL_CAPS,
  type TarballCaps,
  ancestors,
  entryError,
  normalizeEntryPath,
  quote,
  symlinkStaysInside,
} from "./tarball-rules.ts";

export type { TarballCaps } from "./tarball-rules.ts";
export { DEFAULT_TARBALL_CAPS } from "./tarball-rules.ts";

const TAR_HINT = "create it with: tar czf app.tar.gz -C <app dir> .";

export class TarballFetcher implements SourceFetcher {
  readonly caps: TarballCaps;

  constructor(caps: Partial<TarballCaps> = {}) {
    this.caps = { ...DEFAULT_TARBALL_CAPS, ...caps };
  }

  async fetch(req: FetchRequest, destDir: string, opts: { signal?: AbortSignal; log: LogSink }): Promise<FetchResult> {
    if (req.kind !== "tarball") throw new KilnError("internal", `TarballFetcher cannot fetch a ${req.kind} source`);
    const file = Bun.file(req.file);
    if (!(await file.exists())) throw new StepError("the uploaded tarball is missing", "upload the source again");
    opts.log("system", `unpacking tarball (${formatBytes(file.size)})`);
    const stats = await fillNewDir(destDir, (staging) => extractTarball(file.stream(), staging, this.caps, opts.signal));
    opts.log("system", `unpacked ${stats.entries} entries, ${formatBytes(stats.bytes)}`);
    return {};
  }
}

export interface ExtractStats {
  entries: number;
  bytes: number;
}

/**
 * Extract into `root` (an existing, empty directory that only this call writes to). Throws a
 * StepError on the first rule broken; the caller removes `root` then.
 */
export async function extractTarball(
  input: TarInput,
  root: string,
  caps: TarballCaps = DEFAULT_TARBALL_CAPS,
  signal?: AbortSignal,
): Promise<ExtractStats> {
  const x = new Extraction(root, caps);
  try {
    for await (const item of readTar(input)) {
      signal?.throwIfAborted();
      await x.add(item);
    }
  } catch (err) {
    if (err instanceof TarFormatError) {
      throw new StepError(`the upload is not a valid tar or tar.gz archive: ${err.message}`, TAR_HINT);
    }
    throw err;
  }
  x.checkSymlinks();
  return { entries: x.entries, bytes: x.bytes };
}

type Kind = "dir" | "file" | "symlink";

class Extraction {
  entries = 0;
  bytes = 0;
  /** What this extraction created at each normalized path (implicit parent dirs included). */
  readonly #kinds = new Map<string, Kind>();
  /** Every symlink in the tree and its target. */
  readonly #links = new Map<string, string>();

  constructor(
    readonly root: string,
    readonly caps: TarballCaps,
  ) {}

  async add(item: TarItem): Promise<void> {
    const { entry } = item;
    const raw = entry.path;
    if (++this.entries > this.caps.maxFiles) {
      throw new StepError(
        `tarball has more than ${this.caps.maxFiles} entries`,
        "leave dependencies and build output (node_modules, dist, .git) out of the upload",
      );
    }
    this.bytes += entry.size;
    if (this.bytes > this.caps.maxTotalBytes) {
      throw new StepError(
        `tarball unpacks to more than ${formatBytes(this.caps.maxTotalBytes)} (at entry ${quote(raw)})`,
        "leave dependencies and build output (node_modules, dist, .git) out of the upload",
      );
    }
    const path = normalizeEntryPath(raw, this.caps.maxPathLength);
    if (path === "") {
      if (entry.type === "directory") return; // "./" itself
      throw entryError(raw, "is not a valid file name");
    }

    switch (entry.type) {
      case "directory":
        return this.#dir(raw, path);
      case "file":
        return this.#file(raw, path, entry.mode, item);
      case "symlink":
        return this.#symlink(raw, path, entry.linkname);
      case "hardlink":
        return this.#hardlink(raw, path, entry.linkname);
      case "character-device":
      case "block-device":
      case "fifo":
        throw entryError(raw, `is a ${entry.type}; a source tarball may only hold files, directories and links`);
      default:
        throw entryError(raw, `has an unsupported type '${printable(entry.typeflag)}'`, TAR_HINT);
    }
  }

  /** No symlink may resolve outside, judged on the finished tree (a later link can change an earlier one). */
  checkSymlinks(): void {
    for (const [path, target] of this.#links) {
      if (!symlinkStaysInside(path, target, this.#links)) {
        throw entryError(path, `is a symlink to ${quote(target)}, which resolves outside the source directory`);
      }
    }
  }

  async #dir(raw: string, path: string): Promise<void> {
    await this.#parents(raw, path);
    const existing = this.#kinds.get(path);
    if (existing === "dir") return;
    if (existing) throw entryError(raw, `is a directory but an earlier entry made it a ${existing}`);
    await this.#fs(raw, () => mkdir(this.#abs(path), { mode: 0o755 }));
    this.#kinds.set(path, "dir");
  }

  async #file(raw: string, path: string, mode: number, item: TarItem): Promise<void> {
    await this.#parents(raw, path);
    await this.#replace(raw, path);
    const fileMode = (mode & 0o111) | 0o644;
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    await this.#fs(raw, async () => {
      const handle = await open(this.#abs(path), flags, 0o600);
      try {
        for await (const chunk of item.body()) {
          let at = 0;
          while (at < chunk.length) at += (await handle.write(chunk, at)).bytesWritten;
        }
        await handle.chmod(fileMode);
      } finally {
        await handle.close();
      }
    });
    this.#kinds.set(path, "file");
  }

  async #symlink(raw: string, path: string, target: string): Promise<void> {
    if (target === "") throw entryError(raw, "is a symlink with an empty target");
    if (target.length > this.caps.maxPathLength) throw entryError(raw, `has a link target longer than ${this.caps.maxPathLength} bytes`);
    const outside = `is a symlink to ${quote(target)}, which points outside the source directory`;
    if (target.startsWith("/")) throw entryError(raw, outside, "symlinks in the tarball must be relative");
    const links = new Map(this.#links).set(path, target);
    if (!symlinkStaysInside(path, target, links)) throw entryError(raw, outside);
    await this.#parents(raw, path);
    await this.#replace(raw, path);
    await this.#fs(raw, () => symlink(target, this.#abs(path)));
    this.#kinds.set(path, "symlink");
    this.#links.set(path, target);
  }

  async #hardlink(raw: string, path: string, linkname: string): Promise<void> {
    let source: string;
    try {
      source = normalizeEntryPath(linkname, this.caps.maxPathLength);
    } catch {
      throw entryError(raw, `is a hard link to ${quote(linkname)}, which is outside the source directory`);
    }
    if (this.#kinds.get(source) !== "file") {
      throw entryError(raw, `is a hard link to ${quote(linkname)}, which is not a file extracted before it`);
    }
    await this.#parents(raw, path);
    await this.#replace(raw, path);
    await this.#fs(raw, () => link(this.#abs(source), this.#abs(path)));
    this.#kinds.set(path, "file");
  }

  /** Create missing parent directories; refuse to go through a symlink or a file. */
  async #parents(raw: string, path: string): Promise<void> {
    for (const dir of ancestors(path)) {
      const kind = this.#kinds.get(dir);
      if (kind === "dir") continue;
      if (kind === "symlink") throw entryError(raw, `goes through the symlink ${quote(dir)}`, "no entry may be written through a link");
      if (kind === "file") throw entryError(raw, `is inside ${quote(dir)}, which is a file`);
      await this.#fs(raw, () => mkdir(this.#abs(dir), { mode: 0o755 }));
      this.#kinds.set(dir, "dir");
    }
  }

  /** A later entry replaces an earlier file or link at the same path (never a directory). */
  async #replace(raw: string, path: string): Promise<void> {
    const existing = this.#kinds.get(path);
    if (existing === undefined) return;
    if (existing === "dir") throw entryError(raw, "would replace a directory");
    await this.#fs(raw, () => unlink(this.#abs(path)));
    this.#kinds.delete(path);
    this.#links.delete(path);
  }

  #abs(path: string): string {
    return join(this.root, path);
  }

  async #fs<T>(raw: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof KilnError || err instanceof TarFormatError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      throw entryError(raw, `could not be unpacked (${code})`);
    }
  }
}

function printable(flag: string): string {
  return /^[\x20-\x7e]$/.test(flag) ? flag : `\\x${flag.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MiB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KiB`;
  return `${n} B`;
}
