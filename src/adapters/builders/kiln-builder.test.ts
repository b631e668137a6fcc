import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { StepError } from "../../core/errors.ts";
import type { BuildInput } from "../../core/ports/builder.ts";
import type { ImageBuildRequest } from "../../core/ports/runtime.ts";
import { Secret } from "../../core/secret.ts";
import { readTarEntries } from "../../formats/tar/reader.ts";
import { detectApp } from "./detect.ts";
import { KilnBuilder, planSummary, secretsDigest } from "./kiln-builder.ts";

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-kb-"));
  temps.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function fakeRuntime() {
  const requests: ImageBuildRequest[] = [];
  return {
    requests,
    async buildImage(req: ImageBuildRequest) {
      requests.push(req);
      req.onLine("#1 built");
      return { imageId: "sha256:abc", cachedSteps: ["[2/4] RUN npm ci"] };
    },
  };
}

function input(srcDir: string, over: Partial<BuildInput> = {}): BuildInput & { lines: string[] } {
  const lines: string[] = [];
  return {
    deploymentId: "d1",
    buildId: "b1",
    srcDir,
    tag: "kiln/app-x:b1",
    labels: { "kiln.managed": "true" },
    secrets: {},
    log: (_s, t) => lines.push(t),
    lines,
    ...over,
  };
}

async function contextEntries(req: ImageBuildRequest) {
  const ctx = req.context instanceof Uint8Array ? req.context : new Uint8Array(await new Response(req.context).arrayBuffer());
  return readTarEntries(ctx);
}

describe("KilnBuilder", () => {
  const APP = {
    "package.json": JSON.stringify({ name: "a", scripts: { start: "node a.js" }, engines: { node: "18" } }),
    "a.js": "",
    "node_modules/x/index.js": "",
    ".git/HEAD": "ref",
    "notes.log": "",
    ".dockerignore": "*.log\n",
  };

  test("builds the generated Dockerfile from .kiln/Dockerfile in front of the filtered tree, packed under source/", async () => {
    const src = tree(APP);
    const runtime = fakeRuntime();
    const warning = "engines.node in package.json asks for Node.js 18 but no node:18 image is available (no registry answered); building with the host's Node.js 20";
    const asked: unknown[] = [];
    const builder = new KilnBuilder({
      runtime,
      baseImage: async (req) => (asked.push(req), { ref: "kiln/node-runtime:20-host", warnings: [warning] }),
    });
    const inp = input(src);
    const out = await builder.build(inp);

    expect(out).toEqual({ image: "kiln/app-x:b1", port: 3000, plan: "detected: Node.js app (npm, no lockfile: npm) → start `node a.js` on port 3000", cachedSteps: ["[2/4] RUN npm ci"] }); // the runtime's cache report passes through
    const req = runtime.requests[0]!;
    expect(req.dockerfile).toBe(".kiln/Dockerfile");
    expect(req.tag).toBe("kiln/app-x:b1");
    expect(req.labels).toEqual({ "kiln.managed": "true" });
    const entries = await contextEntries(req);
    const paths = entries.map((e) => e.entry.path);
    expect(paths.slice(0, 3)).toEqual([".kiln/", ".kiln/Dockerfile", "source/"]);
    expect(paths).toContain("source/a.js");
    expect(paths).toContain("source/.dockerignore");
    expect(paths.every((p) => p.startsWith(".kiln/") || p.startsWith("source/"))).toBe(true);
    expect(paths.some((p) => p.includes("node_modules") || p.includes(".git/") || p.endsWith(".log"))).toBe(false);
    const dockerfile = new TextDecoder().decode(entries[1]!.data);
    expect(dockerfile).toContain("FROM kiln/node-runtime:20-host\n"); // nothing to install: one stage
    expect(dockerfile).toContain("COPY --chown=1000:1000 source/ ./\n");
    expect(existsSync(join(src, ".kiln"))).toBe(false); // the user's tree is not written to

    // what was detected, why, the resolver's warning (once: build and run share the image), and build output
    expect(asked).toEqual([expect.objectContaining({ name: "node", version: "18" })]);
    expect(inp.lines).toContain("kiln: start: node a.js (scripts.start in package.json, run by sh with node_modules/.bin on PATH)");
    expect(inp.lines.filter((l) => l.startsWith("kiln: warning:"))).toEqual([`kiln: warning: ${warning}`]);
    expect(inp.lines).toContain("#1 built");
  });

  test("a tree with a .kiln of its own keeps it: it is packed under source/, beside Kiln's", async () => {
    const src = tree({ ...APP, ".kiln/Dockerfile": "mine" });
    const runtime = fakeRuntime();
    await new KilnBuilder({ runtime, baseImage: async () => "base:1" }).build(input(src));
    expect(runtime.requests[0]!.dockerfile).toBe(".kiln/Dockerfile");
    const entries = await contextEntries(runtime.requests[0]!);
    expect(new TextDecoder().decode(entries.find((e) => e.entry.path === "source/.kiln/Dockerfile")!.data)).toBe("mine");
  });

  test("secrets go to the runtime as secrets and to the Dockerfile by name only; the log names them without their values", async () => {
    const runtime = fakeRuntime();
    const secret = new Secret("s3cr3t-value");
    const inp = input(tree(APP), { secrets: { API_KEY: secret, B_TOKEN: new Secret("other-s3cr3t") }, buildCommand: "node build.js" });
    await new KilnBuilder({ runtime, baseImage: async () => "base:1" }).build(inp);
    const log = inp.lines.join("\n");
    expect(log).toContain("build-time secrets available as env vars to the install, build and prune steps (not stored in the image): API_KEY, B_TOKEN");
    expect(log).not.toContain("s3cr3t");
    const req = runtime.requests[0]!;
    expect(req.secrets?.API_KEY).toBe(secret);
    expect(req.buildArgs).toBeUndefined();
    const entries = await contextEntries(req);
    const file = (path: string) => new TextDecoder().decode(entries.find((e) => e.entry.path === path)!.data);
    const dockerfile = file(".kiln/Dockerfile");
    expect(dockerfile).not.toContain("s3cr3t");
    expect(dockerfile).toContain(
      "--mount=type=bind,source=.kiln/secrets.sha256,target=/run/kiln-secrets.sha256 --mount=type=secret,id=API_KEY,required=true --mount=type=secret,id=B_TOKEN,required=true ",
    );
    expect(file(".kiln/secrets.sha256")).toBe(secretsDigest(inp.secrets));
  });

  test("secretsDigest: follows every value and name, not the order; holds no value", () => {
    const d = secretsDigest({ A: new Secret("one"), B: new Secret("two") });
    expect(d).toMatch(/^[0-9a-f]{64}\n$/);
    expect(secretsDigest({ B: new Secret("two"), A: new Secret("one") })).toBe(d);
    expect(secretsDigest({ A: new Secret("one"), B: new Secret("two!") })).not.toBe(d);
    expect(secretsDigest({ A: new Secret("one"), C: new Secret("two") })).not.toBe(d);
    expect(secretsDigest({ A: new Secret("one\"B\"=\"two") })).not.toBe(secretsDigest({ A: new Secret("one"), B: new Secret("two") }));
  });

  test("secrets with no step to use them: the log says so", async () => {
    const inp = input(tree(APP), { secrets: { API_KEY: new Secret("s3cr3t-value") } });
    await new KilnBuilder({ runtime: fakeRuntime(), baseImage: async () => "base:1" }).build(inp);
    expect(inp.lines).toContain("kiln: build-time secrets API_KEY are not used: this app has no install, build or prune step");
  });

  test("without secrets, the Dockerfile mounts none", async () => {
    const runtime = fakeRuntime();
    await new KilnBuilder({ runtime, baseImage: async () => "base:1" }).build(input(tree(APP)));
    const entries = await contextEntries(runtime.requests[0]!);
    const dockerfile = new TextDecoder().decode(entries.find((e) => e.entry.path === ".kiln/Dockerfile")!.data);
    expect(dockerfile).not.toContain("type=secret");
    expect(dockerfile).not.toContain("secrets.sha256");
    expect(entries.some((e) => e.entry.path.endsWith("secrets.sha256"))).toBe(false);
    expect(runtime.requests[0]!.secrets).toEqual({});
  });

  test("an undetectable tree fails with the detection StepError before building", async () => {
    const runtime = fakeRuntime();
    const builder = new KilnBuilder({ runtime, baseImage: async () => "base:1" });
    await expect(builder.build(input(tree({ "README.md": "" })))).rejects.toBeInstanceOf(StepError);
    expect(runtime.requests.length).toBe(0);
  });

  test("applies to anything: it is the fallback", async () => {
    expect(await new KilnBuilder({ runtime: fakeRuntime(), baseImage: async () => "b" }).applies("/nonexistent")).toBe(true);
  });

  test("an injected packDir is used", async () => {
    const runtime = fakeRuntime();
    let packed = "";
    const builder = new KilnBuilder({
      runtime,
      baseImage: async () => "base:1",
      packDir: (dir, opts) => {
        packed = dir;
        expect(opts.ignore?.("node_modules", { isDirectory: true })).toBe(true);
        return new Uint8Array(1024);
      },
    });
    const src = tree(APP);
    await builder.build(input(src));
    expect(packed).toBe(src);
  });
});

test("planSummary", async () => {
  const dir = tree({ "package.json": JSON.stringify({ dependencies: { "is-number": "7.0.0" }, scripts: { start: "node a.js" } }) });
  expect(planSummary(await detectApp(dir))).toEqual([
    "kiln: kind: Node.js app (found package.json)",
    "kiln: packageManager: npm (no lockfile: npm)",
    "kiln: install: npm install --omit=dev (no lockfile; no build step, so devDependencies are left out)",
    "kiln: build: none (no scripts.build in package.json)",
    "kiln: start: node a.js (scripts.start in package.json, run by sh with node_modules/.bin on PATH)",
    "kiln: port: 3000 (PORT=3000 is set in the image; the app must listen on $PORT)",
  ]);
});
