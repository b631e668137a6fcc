/**
 * What the host offers to assemble a Go toolchain image from when no golang image is local and
 * no registry answers: its Go installation (Debian's golang-go, or a tarball's /usr/local/go).
 * Only what `go build` needs goes in: the go command, its tools (compile, link, asm…), the
 * standard library's sources and headers; not the precompiled std packages of Go < 1.20 (the
 * build compiles what it needs into its cache), tests, docs or API lists. A toolchain too large
 * to import quickly is refused, so a build fails at once instead of importing for minutes.
 */
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { run } from "../exec/run.ts";
import { probeHostBase, type HostBase } from "./host-node.ts";
import type { HostRootfsSpec } from "./node-rootfs.ts";

export interface HostGo extends HostBase {
  /** GOROOT on the host, symlinks resolved. */
  goroot: string;
  /** "1.19.8" */
  version: string;
  /** "linux_amd64": the pkg/tool directory of this toolchain. */
  platform: string;
  /** The toolchain's parts, as host path → path in the image. */
  parts: { from: string; to: string }[];
  /** Their size on disk, in bytes. */
  bytes: number;
}

type Env = Readonly<Record<string, string>>;

/** Where the image holds the toolchain (as the official golang image does). */
export const GOROOT_IN_IMAGE = "usr/local/go";
/** A toolchain larger than this is not imported (a Go 1.19-1.23 toolchain without its precompiled std is ~200 MB). */
export const GO_TOOLCHAIN_MAX_BYTES = 500 * 1024 * 1024;
const GO_CANDIDATES = ["/usr/local/go/bin/go", "/usr/lib/go/bin/go"];
/** Under GOROOT: what `go build` reads. pkg/tool is narrowed to the host's platform below. */
const GOROOT_PARTS = ["bin", "src", "pkg/include", "lib", "VERSION", "go.env"];

/** The host's `go` (goPath, else on PATH, else the usual places); null when there is none. */
export async function findHostGo(goPath?: string, baseEnv?: Env): Promise<string | null> {
  const candidates = goPath ? [goPath] : [Bun.which("go", { PATH: baseEnv?.PATH ?? "" }), ...GO_CANDIDATES];
  for (const c of candidates) if (c && (await isFile(c))) return realpath(c);
  return null;
}

export async function probeHostGo(goBinary: string, baseEnv?: Env): Promise<HostGo> {
  const res = await run(
    { argv: [goBinary, "env", "GOROOT", "GOVERSION", "GOHOSTOS", "GOHOSTARCH"], env: { GOTOOLCHAIN: "local", HOME: "/nonexistent" } },
    { baseEnv, timeoutMs: 30_000 },
  );
  const [gorootOut, goversion, os, arch] = res.tail.map((l) => l.trim());
  const version = /^go(\d+\.\d+(?:\.\d+)?)/.exec(goversion ?? "")?.[1];
  if (res.code !== 0 || !gorootOut || !version || !os || !arch) {
    throw new KilnError("unavailable", `${goBinary} env printed "${res.tail.join(" ")}"`, "check the host's Go install");
  }
  const goroot = await realpath(gorootOut);
  const platform = `${os}_${arch}`;
  const parts: { from: string; to: string }[] = [];
  for (const part of [...GOROOT_PARTS, `pkg/tool/${platform}`]) {
    const from = await realpath(join(goroot, part)).catch(() => null); // Debian links src/ to /usr/share/go-1.x
    if (from) parts.push({ from, to: `${GOROOT_IN_IMAGE}/${part}` });
  }
  let bytes = 0;
  for (const p of parts) bytes += await treeBytes(p.from);
  const tools = (await readdir(join(goroot, "pkg/tool", platform)).catch(() => [] as string[])).map((t) => join(goroot, "pkg/tool", platform, t));
  const base = await probeHostBase([join(goroot, "bin/go"), ...tools], baseEnv);
  return { goroot, version, platform, parts, bytes, ...base };
}

/** The host's Go as parts of a rootfs: GOROOT at /usr/local/go, go and gofmt on PATH, GOPATH at /go. */
export function hostGoParts(host: HostGo): Omit<HostRootfsSpec, "base"> {
  return {
    files: [],
    trees: host.parts,
    links: { "usr/local/bin/go": `/${GOROOT_IN_IMAGE}/bin/go`, "usr/local/bin/gofmt": `/${GOROOT_IN_IMAGE}/bin/gofmt` },
    dirs: [GOROOT_IN_IMAGE, `${GOROOT_IN_IMAGE}/pkg`, `${GOROOT_IN_IMAGE}/pkg/tool`, "go", "go/bin"],
  };
}

async function treeBytes(path: string): Promise<number> {
  const st = await lstat(path).catch(() => null);
  if (!st) return 0;
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let total = 0;
  for (const name of await readdir(path)) total += await treeBytes(join(path, name));
  return total;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
