/**
 * Where a fuzzed tarball is unpacked, and the checks that nothing escaped. Layout, in a temp
 * parent:  sentinel/ (a directory and a file that must never change), work/ (the work dir:
 * each case unpacks into work/src, then it is emptied), upload.tar (the case's bytes).
 *
 * After each case: the parent holds exactly what it held before, with the sentinel unchanged,
 * and nothing under work/ is a symlink resolving outside work/ or a hard link to a sentinel file.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export interface Sandbox {
  parent: string;
  sentinel: string;
  work: string;
  dest: string;
  upload: string;
  /** Problems found since the last call (empty when nothing escaped); also resets work/. */
  check(): string[];
  remove(): void;
}

type Snapshot = Map<string, string>;

/** Every path under `root` (not below `skip`) with its type, size, mode and inode. */
function snapshot(root: string, skip: string): Snapshot {
  const out: Snapshot = new Map();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (path === skip) continue;
      const st = lstatSync(path);
      out.set(path, `${st.mode.toString(8)} ${st.size} ${st.ino} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

/** Where a symlink really leads (every link on the way followed); for a dangling one, its target's path. */
function whereLinkGoes(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(realpathSync(dirname(path)), readlinkSync(path));
  }
}

export function makeSandbox(): Sandbox {
  const parent = realpathSync(mkdtempSync(join(tmpdir(), "kiln-fuzz-")));
  const sentinel = join(parent, "sentinel");
  const work = join(parent, "work");
  mkdirSync(join(sentinel, "inner"), { recursive: true });
  writeFileSync(join(sentinel, "secret.txt"), "sentinel\n");
  writeFileSync(join(sentinel, "inner", "deep.txt"), "deep\n");
  mkdirSync(work);
  const upload = join(parent, "upload.tar");
  writeFileSync(upload, "");
  const sentinelInodes = new Set([join(sentinel, "secret.txt"), join(sentinel, "inner", "deep.txt")].map((p) => statSync(p).ino));
  const before = snapshot(parent, work);

  const checkWork = (problems: string[]) => {
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const st = lstatSync(path);
        if (st.isSymbolicLink()) {
          const target = whereLinkGoes(path);
          if (target !== work && !target.startsWith(`${work}/`)) problems.push(`symlink ${path} points outside the work dir, at ${target}`);
        } else if (st.isDirectory()) walk(path);
        else if (sentinelInodes.has(st.ino)) problems.push(`${path} is a hard link to a sentinel file`);
        else if (!st.isFile()) problems.push(`${path} is neither a file, a directory nor a symlink (mode ${st.mode.toString(8)})`);
      }
    };
    walk(work);
  };

  return {
    parent,
    sentinel,
    work,
    dest: join(work, "src"),
    upload,
    check() {
      const problems: string[] = [];
      checkWork(problems);
      const after = snapshot(parent, work);
      for (const [path, meta] of after) {
        if (path === upload) continue; // rewritten by every case
        const was = before.get(path);
        if (was === undefined) problems.push(`${path} appeared outside the work dir`);
        else if (was !== meta) problems.push(`${path} changed (${was} → ${meta})`);
      }
      for (const path of before.keys()) if (!after.has(path)) problems.push(`${path} disappeared`);
      for (const name of readdirSync(work)) rmSync(join(work, name), { recursive: true, force: true });
      return problems;
    },
    remove() {
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
