/**
 * The root filesystem of Kiln's host-assembled runtime images, as tar entries (hostRootfsEntries;
 * the Node one is nodeRootfsEntries):
 *   /bin/busybox + its applets (sh, env, /usr/bin/env for npm's shebang, …)
 *   /usr/local/bin/node, /usr/local/lib/node_modules/{npm,corepack} with npm/npx/corepack links
 *   the shared libraries node needs, at the paths the loader looks for them
 *   /etc: passwd and group (root, and `app` uid 1000), nsswitch.conf, the CA bundle
 *   /tmp and /var/tmp (1777), /root, /home/app and /app (owned by app)
 */
import { lstat, readdir, readlink, realpath } from "node:fs/promises";
import { join } from "node:path";
import type { HostBase, HostNode } from "./host-node.ts";
import type { RootfsEntry } from "./rootfs-tar.ts";

export const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
export const APP_UID = 1000;

const encoder = new TextEncoder();

/** Small text files written as is. */
export function etcFiles(): Record<string, string> {
  return {
    "etc/passwd": [
      "root:x:0:0:root:/root:/bin/sh",
      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
      `app:x:${APP_UID}:${APP_UID}:app:/home/app:/bin/sh`,
      "",
    ].join("\n"),
    "etc/group": ["root:x:0:", "nogroup:x:65534:", `app:x:${APP_UID}:`, ""].join("\n"),
    // Only the modules built into glibc: the host's may name ones not in the image (systemd).
    "etc/nsswitch.conf": ["passwd: files", "group: files", "hosts: files dns", "networks: files", ""].join("\n"),
    // Docker replaces /etc/hosts and /etc/resolv.conf at run time; these serve tools that read them early.
    "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
  };
}

const DIRS: { path: string; mode: number; owner?: number }[] = [
  { path: "bin", mode: 0o755 },
  { path: "sbin", mode: 0o755 },
  { path: "usr/bin", mode: 0o755 },
  { path: "usr/sbin", mode: 0o755 },
  { path: "usr/local/bin", mode: 0o755 },
  { path: "etc/ssl/certs", mode: 0o755 },
  { path: "tmp", mode: 0o1777 },
  { path: "var/tmp", mode: 0o1777 },
  { path: "root", mode: 0o700 },
  { path: "home/app", mode: 0o755, owner: APP_UID },
  { path: "app", mode: 0o755, owner: APP_UID },
  { path: "proc", mode: 0o555 },
  { path: "sys", mode: 0o555 },
  { path: "dev", mode: 0o755 },
];

const NODE_LINKS: Record<string, string> = {
  "usr/local/bin/npm": "../lib/node_modules/npm/bin/npm-cli.js",
  "usr/local/bin/npx": "../lib/node_modules/npm/bin/npx-cli.js",
  "usr/local/bin/corepack": "../lib/node_modules/corepack/dist/corepack.js",
};

const BUNDLED_MODULES = ["npm", "corepack"];

/** Every entry of the rootfs; host files are streamed when the tar writer reaches them. */
export function nodeRootfsEntries(host: HostNode, mtime = Math.floor(Date.now() / 1000)): AsyncGenerator<RootfsEntry> {
  return hostRootfsEntries({ base: host, ...hostNodeParts(host) }, mtime);
}

/** The host's node, npm and corepack as parts of a rootfs (the Node image's, and the Bun image's). */
export function hostNodeParts(host: HostNode): Required<Pick<HostRootfsSpec, "files" | "trees" | "links" | "dirs">> {
  return {
    files: [{ from: host.nodePath, to: "usr/local/bin/node", mode: 0o755 }],
    trees: BUNDLED_MODULES.map((name) => ({ from: join(host.modulesDir, name), to: `usr/local/lib/node_modules/${name}` })),
    links: { ...NODE_LINKS },
    dirs: ["usr/local/lib/node_modules"],
  };
}

/** A host-assembled image: busybox and its applets, the libraries, the runtime's own files, /etc, the CA bundle. */
export interface HostRootfsSpec {
  base: HostBase;
  /** Host files (symlinks resolved) and where they go; mode defaults to the host file's. */
  files: { from: string; to: string; mode?: number }[];
  /** Host directory trees copied as they are (modes, symlinks), owned by root; a missing one is skipped. */
  trees?: { from: string; to: string }[];
  /** Symlinks: path → target. */
  links?: Record<string, string>;
  /** Directories (mode 0755) beyond the standard ones. */
  dirs?: string[];
  /** Small files written as they are: path → text (mode 0644). */
  texts?: Record<string, string>;
}

export async function* hostRootfsEntries(spec: HostRootfsSpec, mtime = Math.floor(Date.now() / 1000)): AsyncGenerator<RootfsEntry> {
  const dirs = new Set<string>();
  function* parents(path: string): Generator<RootfsEntry> {
    const parts = path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      yield { type: "dir", path: dir, mode: 0o755, mtime };
    }
  }
  for (const d of [...DIRS, ...(spec.dirs ?? []).map((path) => ({ path, mode: 0o755, owner: undefined }))]) {
    if (dirs.has(d.path)) continue;
    yield* parents(d.path);
    dirs.add(d.path);
    yield { type: "dir", path: d.path, mode: d.mode, uid: d.owner, gid: d.owner, mtime };
  }
  const hostFile = async function* (from: string, to: string, mode?: number): AsyncGenerator<RootfsEntry> {
    const source = await realpath(from);
    const st = await lstat(source);
    yield* parents(to);
    yield { type: "file", path: to, mode: mode ?? st.mode, size: st.size, source, mtime: Math.floor(st.mtimeMs / 1000) };
  };

  yield* hostFile(spec.base.busyboxPath, "bin/busybox", 0o755);
  for (const applet of spec.base.applets) {
    yield* parents(applet);
    yield { type: "symlink", path: applet, target: "/bin/busybox", mtime };
  }
  for (const lib of spec.base.libraries) yield* hostFile(lib, lib.replace(/^\/+/, ""), 0o755);
  for (const f of spec.files) yield* hostFile(f.from, f.to, f.mode);
  for (const t of spec.trees ?? []) {
    yield* parents(t.to);
    yield* copyTree(t.from, t.to, dirs);
  }
  for (const [path, target] of Object.entries(spec.links ?? {})) {
    yield* parents(path);
    yield { type: "symlink", path, target, mtime };
  }
  yield* hostFile(CA_BUNDLE, CA_BUNDLE.slice(1), 0o644);
  for (const [path, text] of Object.entries({ ...etcFiles(), ...(spec.texts ?? {}) })) {
    yield* parents(path);
    yield { type: "file", path, mode: 0o644, data: encoder.encode(text), mtime };
  }
}

/** A host directory tree, as is (modes, symlinks), owned by root. Missing trees are skipped. */
async function* copyTree(from: string, to: string, dirs: Set<string>): AsyncGenerator<RootfsEntry> {
  const st = await lstat(from).catch(() => null);
  if (!st) return;
  const mtime = Math.floor(st.mtimeMs / 1000);
  if (st.isSymbolicLink()) {
    yield { type: "symlink", path: to, target: await readlink(from), mtime };
  } else if (st.isDirectory()) {
    dirs.add(to);
    yield { type: "dir", path: to, mode: st.mode, mtime };
    const names = (await readdir(from)).sort();
    for (const name of names) yield* copyTree(join(from, name), `${to}/${name}`, dirs);
  } else if (st.isFile()) {
    yield { type: "file", path: to, mode: st.mode, size: st.size, source: from, mtime };
  }
}
