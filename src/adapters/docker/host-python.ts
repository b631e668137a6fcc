/**
 * What the host offers to assemble a Python runtime image from (there is no registry to pull
 * python:3.x-slim): Debian's python3 binary, its standard library with the compiled modules
 * (lib-dynload) and the shared libraries they need, and the wheels Debian's ensurepip installs
 * pip from (python3-venv), so `python -m venv` and pip work in the image. The host's pyenv or
 * other shims on PATH are not used: the image needs a python whose files are all under /usr.
 */
import { readdir, realpath, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { run } from "../exec/run.ts";
import { probeHostBase, type HostBase } from "./host-node.ts";
import type { HostRootfsSpec } from "./node-rootfs.ts";

export interface HostPython extends HostBase {
  /** The interpreter, symlinks resolved: /usr/bin/python3.11. */
  binary: string;
  /** "3.11.2" */
  version: string;
  /** "3.11" */
  minor: string;
  /** The standard library: /usr/lib/python3.11. */
  stdlib: string;
  /** Where Debian's ensurepip finds pip's wheel (/usr/share/python-wheels), when python3-venv is installed. */
  wheels?: string;
}

type Env = Readonly<Record<string, string>>;

/** Debian's interpreter; a shim earlier on PATH (pyenv) would point outside /usr. */
export const HOST_PYTHON = "/usr/bin/python3";
const WHEELS_DIR = "/usr/share/python-wheels";
/** Not needed to run or pip-install pure-Python packages, and large (libpython3.x.a). */
const STDLIB_SKIPPED = /^config-\d/;

export async function probeHostPython(opts: { pythonPath?: string; baseEnv?: Env } = {}): Promise<HostPython> {
  const given = opts.pythonPath ?? HOST_PYTHON;
  const binary = await realpath(given).catch(() => {
    throw new KilnError("unavailable", `no Python at ${given} to assemble the Python runtime image from`, "install it: apt-get install python3 python3-venv");
  });
  const res = await run({ argv: [binary, "--version"] }, { baseEnv: opts.baseEnv, timeoutMs: 30_000 });
  const version = /^Python (\d+\.\d+\.\d+)/.exec(res.tail.join("\n"))?.[1];
  if (res.code !== 0 || !version) {
    throw new KilnError("unavailable", `${binary} --version printed "${res.tail.join(" ")}"`, "check the host's Python install");
  }
  const minor = version.split(".").slice(0, 2).join(".");
  const stdlib = join(dirname(dirname(binary)), "lib", `python${minor}`);
  if (!(await isFile(join(stdlib, "os.py")))) {
    throw new KilnError("unavailable", `the standard library of ${binary} is not at ${stdlib}`, "install Debian's python3 (apt-get install python3)");
  }
  const wheels = (await readdir(WHEELS_DIR).catch(() => [] as string[])).some((f) => /^pip-.*\.whl$/.test(f)) ? WHEELS_DIR : undefined;
  const modules = (await readdir(join(stdlib, "lib-dynload")).catch(() => [] as string[])).filter((f) => f.endsWith(".so"));
  const base = await probeHostBase([binary, ...modules.map((f) => join(stdlib, "lib-dynload", f))], opts.baseEnv);
  return { binary, version, minor, stdlib, wheels, ...base };
}

/** The host's Python as parts of a rootfs: the interpreter at its host path, python/python3 links, the stdlib, the wheels. */
export async function hostPythonParts(host: HostPython): Promise<Omit<HostRootfsSpec, "base">> {
  const bin = host.binary.slice(1);
  const lib = host.stdlib.slice(1);
  const entries = (await readdir(host.stdlib)).filter((name) => !STDLIB_SKIPPED.test(name)).sort();
  return {
    files: [{ from: host.binary, to: bin, mode: 0o755 }],
    trees: [
      ...entries.map((name) => ({ from: join(host.stdlib, name), to: `${lib}/${name}` })),
      ...(host.wheels ? [{ from: host.wheels, to: host.wheels.slice(1) }] : []),
    ],
    links: {
      [`${dirname(bin)}/python3`]: basename(bin),
      [`${dirname(bin)}/python`]: basename(bin),
    },
    dirs: [lib, "usr/local/lib"],
  };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
