/**
 * What the host offers to assemble a Node runtime image from (there is no registry to pull
 * one): its `node` binary and npm/corepack, the shared libraries they need, and a static
 * busybox for a shell and the usual tools.
 */
import { realpath, stat } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { run } from "../exec/run.ts";

export interface HostNode extends HostBase {
  /** The node binary (symlinks resolved). */
  nodePath: string;
  /** e.g. "v20.20.2" */
  version: string;
  major: number;
  /** `<prefix>/lib/node_modules`, holding npm and corepack. */
  modulesDir: string;
}

const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

/**
 * Library paths from `ldd` output. Lines look like
 *   "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)", "/lib64/ld-linux-x86-64.so.2 (0x…)",
 *   "linux-vdso.so.1 (0x…)" (kernel-provided, skipped), "not a dynamic executable" (static).
 */
export function parseLdd(lines: string[]): string[] {
  const libs: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    const missing = /^(\S+) => not found$/.exec(line);
    if (missing) {
      throw new KilnError("unavailable", `the host's node needs ${missing[1]}, which is not installed`, "reinstall node");
    }
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line);
    if (m?.[1] && !libs.includes(m[1])) libs.push(m[1]);
  }
  return libs;
}

type Env = Readonly<Record<string, string>>;

async function lines(argv: string[], baseEnv: Env | undefined, only?: "stdout"): Promise<{ code: number; lines: string[] }> {
  const out: string[] = [];
  const onLine = (stream: "stdout" | "stderr", line: string) => {
    if (!only || stream === only) out.push(line);
  };
  const res = await run({ argv }, { baseEnv, onLine, timeoutMs: 30_000 });
  return { code: res.code, lines: out };
}

/**
 * The first line `<binary> --version` (or `<binary> ...args`: `caddy version`) prints on stdout,
 * and how it exited; stderr is left out (caddy warns there when it has no $HOME).
 */
export async function versionLine(binary: string, baseEnv?: Env, args: string[] = ["--version"]): Promise<{ code: number; line: string }> {
  const out = await lines([binary, ...args], baseEnv, "stdout");
  return { code: out.code, line: out.lines[0]?.trim() ?? "" };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function findBusybox(): Promise<string> {
  for (const path of BUSYBOX_CANDIDATES) if (await exists(path)) return path;
  throw new KilnError(
    "unavailable",
    "busybox is not installed on this host; Kiln needs it to assemble the Node base image",
    "install it: apt-get install busybox-static",
  );
}

export async function findNode(nodePath?: string): Promise<string> {
  const found = nodePath ?? Bun.which("node");
  if (!found) {
    throw new KilnError("unavailable", "no `node` on PATH to build the Node base image from", "install Node.js 18 or newer");
  }
  const real = await realpath(found);
  if (basename(real).startsWith("bun")) {
    throw new KilnError("unavailable", `\`node\` on PATH is Bun (${real}), not Node.js`, "install Node.js and put it first on PATH");
  }
  return real;
}

/** The shared libraries a host binary needs (ldd); none for a static one. */
export async function hostLibraries(binary: string, baseEnv: Env | undefined): Promise<string[]> {
  const res = await lines(["ldd", binary], baseEnv);
  if (res.code !== 0) {
    if (res.lines.some((l) => /not a dynamic executable|statically linked/.test(l))) return [];
    throw new KilnError("unavailable", `ldd ${binary} failed: ${res.lines.join(" ")}`, "is ldd (libc-bin) installed?");
  }
  return parseLdd(res.lines);
}

/** `baseEnv`: the environment node, ldd and busybox start from (config.childEnv). */
export async function probeHostNode(opts: { nodePath?: string; baseEnv?: Env } = {}): Promise<HostNode> {
  const nodePath = await findNode(opts.nodePath);
  const { code, line: version } = await versionLine(nodePath, opts.baseEnv);
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (code !== 0 || !Number.isInteger(major)) {
    throw new KilnError("unavailable", `${nodePath} --version printed "${version}"`, "check the host's Node.js install");
  }
  const modulesDir = join(dirname(dirname(nodePath)), "lib", "node_modules");
  if (!(await exists(join(modulesDir, "npm", "package.json")))) {
    throw new KilnError("unavailable", `npm not found at ${modulesDir}/npm`, "install npm alongside the host's node");
  }
  const base = await probeHostBase([nodePath], opts.baseEnv);
  return { nodePath, version, major, modulesDir, ...base };
}

/**
 * The C runtime a distribution's base image carries, beside what the binaries themselves link:
 * native modules an app installs (rollup's, swc's, sharp's) link librt, libresolv, libz… that node
 * does not. Taken from the directory of the libc the binaries use; a missing one is skipped.
 */
const COMMON_LIBRARIES = [
  "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libresolv.so.2", "libutil.so.1", "libanl.so.1",
  "libmvec.so.1", "libnss_files.so.2", "libnss_dns.so.2", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1",
];

async function commonLibraries(linked: string[]): Promise<string[]> {
  const libc = linked.find((l) => /\/libc\.so\.6$/.test(l));
  if (!libc) return [];
  const dir = dirname(libc);
  const found: string[] = [];
  for (const name of COMMON_LIBRARIES) if (await exists(join(dir, name))) found.push(join(dir, name));
  return found;
}

/** What every host-assembled image has: busybox, its applets, and the libraries of it and of `binaries`. */
export interface HostBase {
  busyboxPath: string;
  /** Applet paths relative to /, as `busybox --list-full` prints them (e.g. "usr/bin/env"). */
  applets: string[];
  /** Shared libraries (absolute paths as the loader knows them) the binaries and busybox need. */
  libraries: string[];
}

export async function probeHostBase(binaries: string[], baseEnv?: Env): Promise<HostBase> {
  const busyboxPath = await findBusybox();
  const applets = await lines([busyboxPath, "--list-full"], baseEnv);
  if (applets.code !== 0 || applets.lines.length === 0) {
    throw new KilnError("unavailable", `${busyboxPath} --list-full failed`, "install busybox-static");
  }
  const libs: string[] = [];
  for (const b of [...binaries, busyboxPath]) libs.push(...(await hostLibraries(b, baseEnv)));
  libs.push(...(await commonLibraries(libs)));
  return {
    busyboxPath,
    applets: applets.lines.map((l) => l.trim()).filter((l) => l && l !== "bin/busybox"),
    libraries: [...new Set(libs)],
  };
}
