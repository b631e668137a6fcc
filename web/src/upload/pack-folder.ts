/**
 * A folder picked or dropped in the browser → a gzipped tarball, with the same ignore rules as
 * `kiln deploy <folder>` (.git and node_modules always; the folder's .gitignore and .kilnignore).
 */
import { encodeTarBytes, type TarInputEntry } from "../../../src/formats/tar/encode.ts";
import { IGNORE_FILES, folderIgnore } from "../../../src/formats/ignore.ts";

export interface FolderFile {
  /** Path inside the folder, '/'-separated, without the folder's own name. */
  path: string;
  file: File;
}

/** Files picked with <input webkitdirectory>: their webkitRelativePath starts with the folder's name. */
export function fromDirectoryInput(files: FileList | File[]): FolderFile[] {
  return [...files].map((file) => ({ file, path: (file.webkitRelativePath || file.name).split("/").slice(1).join("/") || file.name }));
}

/** Files of a dropped directory entry (DataTransferItem.webkitGetAsEntry()), recursively. */
export async function fromDroppedEntry(root: FileSystemDirectoryEntry): Promise<FolderFile[]> {
  const out: FolderFile[] = [];
  const walk = async (dir: FileSystemDirectoryEntry, prefix: string): Promise<void> => {
    const reader = dir.createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) return;
      for (const entry of batch) {
        const path = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.isDirectory) {
          if (entry.name !== "node_modules" && entry.name !== ".git") await walk(entry as FileSystemDirectoryEntry, path);
        } else {
          const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
          out.push({ path, file });
        }
      }
    }
  };
  await walk(root, "");
  return out;
}

/** The tar.gz of the folder's files, ignore rules applied. */
export async function packFolder(files: FolderFile[]): Promise<{ bytes: Uint8Array; count: number; skipped: number }> {
  const ignoreFiles = [];
  for (const name of IGNORE_FILES) {
    const f = files.find((x) => x.path === name);
    if (f) ignoreFiles.push({ name, text: await f.file.text() });
  }
  const ignored = folderIgnore(ignoreFiles);
  const isIgnored = (path: string) => {
    const parts = path.split("/");
    // a file is out when it, or any folder above it, is ignored
    return parts.some((_, i) => ignored(parts.slice(0, i + 1).join("/"), { isDirectory: i < parts.length - 1 }));
  };
  const kept = files.filter((f) => !isIgnored(f.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const entries: TarInputEntry[] = [];
  for (const f of kept) entries.push({ path: f.path, type: "file", mode: 0o644, mtime: Math.floor(f.file.lastModified / 1000), data: new Uint8Array(await f.file.arrayBuffer()) });
  const tar = encodeTarBytes(entries);
  const gz = new Uint8Array(await new Response(new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
  return { bytes: gz, count: kept.length, skipped: files.length - kept.length };
}
