/**
 * Python and Go apps through Kiln's zero-config builder against the real engine, with the runtime
 * images resolved as main.ts wires them (RuntimeImages). This machine has no registry, no PyPI
 * and no Go module proxy, so:
 * - python-stdlib (main.py only) and python-procfile (a Procfile web: line; .python-version asks
 *   for a 3.12 that is not here, which the log warns of) build on the image assembled from the
 *   host's Debian python, run as uid 1000 and answer over HTTP;
 * - python-requirements (flask from requirements.txt) fails saying pip could not reach the index;
 * - go-stdlib builds with the toolchain image assembled from the host's Go (golang-go) and runs
 *   as one binary; go-modules fails saying no module proxy answered; and without a host toolchain
 *   (goPath: null) a Go build fails at once saying which image to provide.
 * Everything made here carries kiln.test=1 and a label unique to this run and is removed at the
 * end; the shared runtime images are kept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { BuildInput } from "../../src/core/ports/builder.ts";
import { StepError } from "../../src/core/errors.ts";
import { newId } from "../../src/core/ids.ts";
import { KilnBuilder, type KilnBuildOutput } from "../../src/adapters/builders/kiln-builder.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { RuntimeImages, type RuntimeImagesOptions } from "../../src/adapters/docker/runtime-images.ts";
import { removeLabelled, serveImage } from "../helpers/served-image.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/apps");
const RUN = newId(8);
const LABELS = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.run": `python-go-${RUN}` };
const RUN_LABEL = { "kiln.test.run": LABELS["kiln.test.run"] };
const HOST_ENV = { PATH: "/usr/local/bin:/usr/bin:/bin" };

const runtime = new DockerEngine();

function builder(opts: Partial<RuntimeImagesOptions> = {}): KilnBuilder {
  return new KilnBuilder({ runtime, baseImage: (req) => new RuntimeImages({ runtime, baseEnv: HOST_ENV, ...opts }).resolve(req) });
}

beforeAll(async () => {
  await runtime.ping();
});

afterAll(() => removeLabelled(runtime, RUN_LABEL));

type Built = KilnBuildOutput & { lines: string[] };

async function build(app: string, kiln = builder()): Promise<Built> {
  const lines: string[] = [];
  const out = await kiln.build(input(app, lines)).catch((err: unknown) => {
    console.log(lines.join("\n"));
    throw err;
  });
  return { ...out, lines };
}

/** The error a build fails with, and its log. */
async function failure(app: string, kiln = builder()): Promise<{ err: StepError; lines: string[] }> {
  const lines: string[] = [];
  const err = await kiln.build(input(app, lines)).then(
    () => new Error(`${app} built, but should have failed`),
    (e: unknown) => e,
  );
  if (!(err instanceof StepError)) {
    console.log(lines.join("\n"));
    throw err;
  }
  return { err, lines };
}

function input(app: string, lines: string[]): BuildInput {
  return {
    deploymentId: `test-${app}`,
    buildId: RUN,
    srcDir: join(FIXTURES, app),
    tag: `kiln/test-python-go-${app}:${RUN}`,
    labels: LABELS,
    secrets: {},
    log: (_stream, text) => lines.push(text),
  };
}

function serve(out: Built, name: string): Promise<string> {
  return serveImage(runtime, { image: out.image, port: out.port!, name: `kiln-test-python-go-${RUN}-${name}`, labels: LABELS });
}

function hostPythonMinor(): string {
  return /Python (\d+\.\d+)/.exec(Bun.spawnSync(["/usr/bin/python3", "--version"]).stdout.toString())![1]!;
}

describe("Python apps on the real engine", () => {
  test("python-stdlib: main.py and no dependencies: no install step, built on the host's Python image, answers on $PORT as uid 1000", async () => {
    expect(await runtime.imageExists("python:3.13-slim")).toBe(false); // what makes Kiln assemble one
    const out = await build("python-stdlib");
    expect(out.lines).toContain("kiln: kind: Python app (found main.py)");
    expect(out.lines).toContain("kiln: start: python main.py (found main.py)");
    expect(out.lines.some((l) => / RUN .*pip install/.test(l))).toBe(false);

    const url = await serve(out, "stdlib");
    expect(url).toStartWith("http://127.0.0.1:");
    const body = await (await fetch(url)).json();
    expect(body).toEqual({ app: "python-stdlib", python: hostPythonMinor(), uid: 1000, unbuffered: "1" });
  }, 240_000);

  test("python-procfile: the Procfile's web: line starts it (its --greeting reaches the app); the 3.12 its .python-version asks for is not here, and the log says so", async () => {
    const out = await build("python-procfile");
    expect(out.lines).toContain('kiln: start: python app.py --greeting "hello from the Procfile" (the web: line of the Procfile)');
    const host = Bun.spawnSync(["/usr/bin/python3", "--version"]).stdout.toString().trim().replace("Python ", "");
    expect(out.lines).toContain(
      `kiln: warning: .python-version asks for Python 3.12 but no python:3.12-slim image is available (no registry answered); building with the host's Python ${host}`,
    );
    const url = await serve(out, "procfile");
    expect(await (await fetch(url)).text()).toBe("hello from the Procfile\n");
  }, 240_000);

  test("python-requirements: pip cannot reach PyPI, and the build's error says so and what to do", async () => {
    const { err, lines } = await failure("python-requirements");
    expect(lines.some((l) => /RUN .*python -m venv \/app\/\.venv && pip install -r requirements\.txt/.test(l))).toBe(true);
    expect(lines).toContain("ERROR: No matching distribution found for flask==3.1.0");
    // This machine's build containers resolve no outside names: that is what pip printed, and what the error says.
    expect(lines.some((l) => l.includes("Failed to establish a new connection: [Errno -2] Name or service not known"))).toBe(true);
    expect(err.message).toBe("pip could not reach the package index (https://pypi.org/simple): its name does not resolve here; flask==3.1.0 was not installed");
    expect(err.hint).toContain("PIP_INDEX_URL (a build-time env var)");
    expect(err.hint).toContain("--find-links wheels/");
  }, 240_000);
});

describe("Go apps on the real engine", () => {
  test("go-stdlib: built with the toolchain image assembled from the host's Go, runs as one binary on $PORT as uid 1000", async () => {
    expect(await runtime.imageExists("golang:1.19")).toBe(false); // what makes Kiln assemble one
    const hostGo = /go(\d+\.\d+(?:\.\d+)?)/.exec(Bun.spawnSync(["go", "version"], { env: HOST_ENV }).stdout.toString())![1]!;
    const out = await build("go-stdlib");
    expect(out.lines).toContain("kiln: install: none (go.mod requires no modules: nothing to download)");
    expect(out.lines.some((l) => / RUN .*go build -trimpath -ldflags="-w -s" -o \/app\/server \./.test(l))).toBe(true);
    const toolchain = (await runtime.listImages({ "kiln.base": "go", "kiln.base.version": hostGo })).flatMap((i) => i.tags);
    expect(toolchain).toContain(`kiln/go-runtime:${hostGo.split(".").slice(0, 2).join(".")}-host`);

    const url = await serve(out, "go");
    const body = await (await fetch(url)).json();
    expect(body).toEqual({ app: "go-stdlib", go: `go${hostGo}`, uid: 1000 });
  }, 300_000);

  test("go-modules: no module proxy answers, and the build's error says so", async () => {
    const { err, lines } = await failure("go-modules");
    expect(lines.some((l) => / RUN .*go mod download/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('go: github.com/google/uuid@v1.6.0: Get "https://proxy.golang.org/') && l.endsWith("no such host"))).toBe(true);
    expect(err.message).toBe("Go modules need a module proxy; none answered (GOPROXY=https://proxy.golang.org): its name does not resolve here");
    expect(err.hint).toContain("GOPROXY (a build-time env var)");
  }, 300_000);

  test("without a Go toolchain image or a host toolchain, a Go build fails at once naming the image to provide", async () => {
    const { err, lines } = await failure("go-stdlib", builder({ goPath: null }));
    expect(err.message).toBe("Go apps need a Go toolchain image (golang:1.19); none is on this engine and no registry answered");
    expect(err.hint).toContain("docker load");
    expect(lines.some((l) => l.includes(" RUN "))).toBe(false); // nothing was built
  }, 120_000);
});
