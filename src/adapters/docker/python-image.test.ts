import { describe, expect, test } from "bun:test";
import { StepError } from "../../core/errors.ts";
import type { RuntimeRequest } from "../builders/plan.ts";
import { probeHostPython } from "./host-python.ts";
import { pythonImageChanges, pythonRuntimeRef, resolvePythonImage } from "./python-image.ts";
import { minorSatisfies, officialPythonTag, pythonSatisfies, readPythonRange } from "./python-versions.ts";
import { fakeHost, fakeImageRuntime } from "./testdata/fake-image-runtime.ts";

const HOST = "kiln/python-runtime:3.11-host";

async function choose(req: Omit<RuntimeRequest, "name">, world: { local?: string[]; pullable?: string[] } = {}) {
  const runtime = fakeImageRuntime(world);
  const got = await resolvePythonImage({ name: "python", ...req }, { runtime, host: fakeHost("3.11.2", 3, HOST, runtime.calls) });
  return { ...got, calls: runtime.calls };
}

describe("resolvePythonImage", () => {
  test("no version asked: python:3.13-slim when local or pulled, else the host's image without a warning", async () => {
    expect(await choose({}, { local: ["python:3.13-slim"] })).toEqual({ ref: "python:3.13-slim", calls: ["exists python:3.13-slim"] });
    expect(await choose({})).toEqual({ ref: HOST, calls: ["exists python:3.13-slim", "pull python:3.13-slim", "probe host", `host image ${HOST}`] });
  });

  test("3.12: python:3.12-slim is pulled when a registry gives it", async () => {
    const got = await choose({ version: "3.12", versionFrom: ".python-version" }, { pullable: ["python:3.12-slim"] });
    expect(got.ref).toBe("python:3.12-slim");
  });

  test(">=3.10: the newest satisfying minor is pulled; older ones only when local", async () => {
    const got = await choose({ version: ">=3.10" }, { local: ["python:3.12-slim"] });
    expect(got).toEqual({ ref: "python:3.12-slim", calls: ["exists python:3.14-slim", "pull python:3.14-slim", "exists python:3.13-slim", "exists python:3.12-slim"] });
  });

  test("a version the host's Python satisfies: its image, no warning", async () => {
    const got = await choose({ version: "~=3.11", versionFrom: "requires-python in pyproject.toml" });
    expect(got.ref).toBe(HOST);
    expect(got.warnings).toBeUndefined();
  });

  test("a version the host's Python does not satisfy: its image, with a warning saying so", async () => {
    const got = await choose({ version: "3.12", versionFrom: ".python-version" });
    expect(got.ref).toBe(HOST);
    expect(got.warnings).toEqual([
      ".python-version asks for Python 3.12 but no python:3.12-slim image is available (no registry answered); building with the host's Python 3.11.2",
    ]);
  });

  test("a version Kiln cannot read: the host's image, with a warning", async () => {
    const got = await choose({ version: "pypy3.10", versionFrom: ".python-version" });
    expect(got.warnings).toEqual(['.python-version asks for Python "pypy3.10", which Kiln cannot read as a version; building with the host\'s Python 3.11.2']);
  });
});

test("resolvePythonImage: no image and no usable host Python fails the build naming the image to provide", async () => {
  const runtime = fakeImageRuntime();
  const err = await resolvePythonImage(
    { name: "python", version: "3.12" },
    {
      runtime,
      host: async () => {
        throw new Error("no Python at /usr/bin/python3 to assemble the Python runtime image from");
      },
    },
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StepError);
  expect((err as StepError).message).toBe(
    "Python apps need a Python image (python:3.12-slim); none is on this engine, no registry answered, and the host's Python cannot be used: no Python at /usr/bin/python3 to assemble the Python runtime image from",
  );
});

describe("python versions", () => {
  test("a bare version is a prefix; operators compare with zeros for missing parts", () => {
    const r = (t: string) => readPythonRange(t)!;
    expect(pythonSatisfies(r("3.11"), "3.11.2")).toBe(true);
    expect(pythonSatisfies(r("3.11.4"), "3.11.2")).toBe(false);
    expect(pythonSatisfies(r(">=3.9,<3.12"), "3.11.2")).toBe(true);
    expect(pythonSatisfies(r(">=3.9, <3.11"), "3.11.2")).toBe(false);
    expect(pythonSatisfies(r(">=3.10 <3.13"), "3.12.0")).toBe(true);
    expect(pythonSatisfies(r("==3.11.*"), "3.11.9")).toBe(true);
    expect(pythonSatisfies(r("!=3.11.*,>=3.9"), "3.11.9")).toBe(false);
    expect(pythonSatisfies(r("~=3.11.2"), "3.11.8")).toBe(true);
    expect(pythonSatisfies(r("~=3.11.2"), "3.12.0")).toBe(false);
    expect(pythonSatisfies(r("^3.10"), "3.13.1")).toBe(true);
    expect(pythonSatisfies(r("~3.10"), "3.11.0")).toBe(false);
    expect(pythonSatisfies(r("python-3.12.1"), "3.12.1")).toBe(true);
  });

  test("the minors worth trying, newest first; none for what no image satisfies", () => {
    expect(readPythonRange(">=3.11")!.minors).toEqual(["3.14", "3.13", "3.12", "3.11"]);
    expect(readPythonRange("3.8")!.minors).toEqual(["3.8"]);
    expect(readPythonRange(">=4")!.minors).toEqual([]);
    expect(minorSatisfies(readPythonRange("<=3.11.4")!, "3.11")).toBe(true);
    expect(officialPythonTag("3.12")).toBe("python:3.12-slim");
  });

  test("what is not a version is not read", () => {
    for (const t of ["pypy3.10", "system", "", "3.11 || 3.12", "latest"]) expect(readPythonRange(t)).toBeNull();
  });
});

describe("the host's Python image", () => {
  test("ref, and import changes as the official image: UTF-8, python3 as the command, labels", () => {
    expect(pythonRuntimeRef("3.11")).toBe(HOST);
    const changes = pythonImageChanges({ "kiln.managed": "true", "kiln.base": "python", "kiln.base.version": "3.11.2" });
    expect(changes).toContain("ENV LANG=C.UTF-8");
    expect(changes).toContain('CMD ["python3"]');
    expect(changes).toContain('LABEL kiln.managed="true" kiln.base="python" kiln.base.version="3.11.2"');
  });

  test("probe of this host's Debian python: version, stdlib, the compiled modules' libraries, pip's wheel for venvs", async () => {
    const host = await probeHostPython({ baseEnv: { PATH: "/usr/bin:/bin" } });
    expect(host.binary).toMatch(/^\/usr\/bin\/python3\.\d+$/);
    expect(host.stdlib).toBe(`/usr/lib/python${host.minor}`);
    expect(host.version.startsWith(`${host.minor}.`)).toBe(true);
    expect(host.libraries.some((l) => l.includes("libssl"))).toBe(true); // _ssl in lib-dynload
    expect(host.wheels).toBe("/usr/share/python-wheels"); // python3-venv (scripts/setup.sh)
  });
});
