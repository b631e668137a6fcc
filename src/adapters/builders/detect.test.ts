import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { StepError } from "../../core/errors.ts";
import { detectApp, parseProcfile } from "./detect.ts";

const FIXTURES = join(import.meta.dir, "../../../test/fixtures/apps");
const fixture = (name: string) => join(FIXTURES, name);

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A temp source tree holding `files` (path → content). */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-detect-"));
  temps.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const pkg = (obj: Record<string, unknown>) => JSON.stringify({ name: "x", version: "1.0.0", dependencies: { "is-number": "7.0.0" }, ...obj });

async function detectError(dir: string): Promise<StepError> {
  try {
    await detectApp(dir);
  } catch (err) {
    if (err instanceof StepError) return err;
    throw err;
  }
  throw new Error("expected a StepError");
}

describe("fixtures", () => {
  test("node-npm: npm ci of production deps, scripts.start", async () => {
    const plan = await detectApp(fixture("node-npm"));
    expect(plan.kind).toBe("node");
    expect(plan.packageManager).toBe("npm");
    expect(plan.installCmd).toBe("npm ci --omit=dev");
    expect(plan.buildCmd).toBeUndefined();
    expect(plan.pruneCmd).toBeUndefined();
    expect(plan.startCmd).toBe("node server.js");
    expect(plan.manifests).toEqual(["package.json", "package-lock.json"]);
    expect(plan.port).toBe(3000);
    expect(plan.buildImage).toEqual({ name: "node", version: ">=18", versionFrom: "engines.node in package.json" });
    expect(plan.warnings).toEqual([]);
    expect(plan.reasons.packageManager).toContain("package-lock.json");
    expect(plan.reasons.start).toContain("scripts.start");
  });

  test("node-pnpm: packageManager field, corepack, build then prune", async () => {
    const plan = await detectApp(fixture("node-pnpm"));
    expect(plan.packageManager).toBe("pnpm");
    expect(plan.installCmd).toBe("corepack enable && pnpm install --frozen-lockfile");
    expect(plan.buildCmd).toBe("pnpm run build");
    expect(plan.pruneCmd).toBe("pnpm prune --prod");
    expect(plan.startCmd).toBe("node dist/server.js");
    expect(plan.manifests).toEqual(["package.json", "pnpm-lock.yaml"]);
    expect(plan.reasons.packageManager).toContain('"packageManager"');
  });

  test("node-yarn: yarn.lock picks yarn 1 via corepack; main starts it", async () => {
    const plan = await detectApp(fixture("node-yarn"));
    expect(plan.packageManager).toBe("yarn");
    expect(plan.yarnBerry).toBe(false);
    expect(plan.installCmd).toBe("corepack enable && yarn install --frozen-lockfile --production");
    expect(plan.startCmd).toBe("node app.js");
    expect(plan.reasons.start).toContain('"main"');
  });

  test("static: index.html at the root, served as it is by the static server, no Node.js image", async () => {
    const plan = await detectApp(fixture("static"));
    expect(plan.kind).toBe("static");
    expect(plan.serve).toEqual({ dir: ".", spa: false });
    expect(plan.startCmd).toBe("");
    expect(plan.buildImage).toEqual({ name: "static" });
    expect(plan.runImage).toEqual({ name: "static" });
    expect(plan.installCmd).toBeUndefined();
    expect(plan.buildCmd).toBeUndefined();
  });

  test("procfile: the web line, no install", async () => {
    const plan = await detectApp(fixture("procfile"));
    expect(plan.kind).toBe("procfile");
    expect(plan.startCmd).toBe("node web.js --port $PORT");
    expect(plan.installCmd).toBeUndefined();
    expect(plan.manifests).toEqual([]);
  });

  test("railpack-json: build commands extend scripts.build, startCommand wins over scripts.start", async () => {
    const plan = await detectApp(fixture("railpack-json"));
    expect(plan.kind).toBe("node");
    expect(plan.buildCmd).toBe("npm run build && node generate.js");
    expect(plan.startCmd).toBe("node out/server.js");
    expect(plan.installCmd).toBe("npm install");
    expect(plan.pruneCmd).toBe("npm prune --omit=dev");
    expect(plan.reasons.start).toBe("deploy.startCommand in railpack.json");
    expect(plan.reasons.build).toContain("railpack.json");
  });

  test("dockerfile: only a Dockerfile and a server.js is not a zero-config app", async () => {
    const err = await detectError(fixture("dockerfile"));
    expect(err.message).toBe("could not detect how to build this app");
  });
});

describe("package manager", () => {
  test("no dependencies and no lockfile: nothing to install", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ dependencies: {}, scripts: { start: "node a.js" } }) }));
    expect(plan.installCmd).toBeUndefined();
    expect(plan.reasons.install).toContain("no dependencies");
  });

  test("no lockfile: npm install", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ scripts: { start: "node a.js" } }) }));
    expect(plan.installCmd).toBe("npm install --omit=dev");
    expect(plan.manifests).toEqual(["package.json"]);
    expect(plan.reasons.packageManager).toBe("no lockfile: npm");
  });

  test("npm-shrinkwrap.json counts as npm's lockfile", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ scripts: { start: "x" } }), "npm-shrinkwrap.json": "{}" }));
    expect(plan.installCmd).toBe("npm ci --omit=dev");
    expect(plan.manifests).toContain("npm-shrinkwrap.json");
  });

  test("a build script installs everything, builds, then prunes", async () => {
    const plan = await detectApp(
      tree({ "package.json": pkg({ scripts: { build: "tsc", start: "node dist/a.js" } }), "package-lock.json": "{}" }),
    );
    expect(plan.installCmd).toBe("npm ci");
    expect(plan.buildCmd).toBe("npm run build");
    expect(plan.pruneCmd).toBe("npm prune --omit=dev");
  });

  test("yarn berry lockfile: --immutable, no prune, a warning about packageManager", async () => {
    const plan = await detectApp(
      tree({
        "package.json": pkg({ scripts: { build: "b", start: "s" } }),
        "yarn.lock": "__metadata:\n  version: 8\n",
        ".yarnrc.yml": "nodeLinker: node-modules\n",
        ".yarn/releases/yarn.cjs": "",
      }),
    );
    expect(plan.yarnBerry).toBe(true);
    expect(plan.installCmd).toBe("corepack enable && yarn install --immutable");
    expect(plan.pruneCmd).toBeUndefined();
    expect(plan.manifests).toEqual(["package.json", "yarn.lock", ".yarnrc.yml", ".yarn/"]);
    expect(plan.warnings.join()).toContain('"packageManager"');
  });

  test("packageManager yarn@4 means berry without looking at the lockfile", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ packageManager: "yarn@4.5.0", scripts: { start: "s" } }), "yarn.lock": "" }));
    expect(plan.yarnBerry).toBe(true);
    expect(plan.warnings).toEqual([]);
  });

  test("the packageManager field wins over another manager's lockfile, with a warning", async () => {
    const plan = await detectApp(
      tree({ "package.json": pkg({ packageManager: "pnpm@9.0.0", scripts: { start: "s" } }), "package-lock.json": "{}" }),
    );
    expect(plan.packageManager).toBe("pnpm");
    expect(plan.installCmd).toBe("corepack enable && pnpm install --prod");
    expect(plan.warnings.join()).toContain("without a lockfile");
  });

  test("several lockfiles: pnpm first, with a warning", async () => {
    const plan = await detectApp(
      tree({ "package.json": pkg({ scripts: { start: "s" } }), "package-lock.json": "{}", "pnpm-lock.yaml": "" }),
    );
    expect(plan.packageManager).toBe("pnpm");
    expect(plan.warnings.join()).toContain("several lockfiles");
  });

  test("bun: installed and run with Bun (the version packageManager names); an unknown packageManager is warned about and npm is used", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ packageManager: "bun@1.1.0", scripts: { start: "s" } }), "bun.lockb": "" }));
    expect(plan.packageManager).toBe("bun");
    expect(plan.installCmd).toBe("bun install --frozen-lockfile --production");
    expect(plan.buildImage).toEqual({ name: "bun", version: "1.1.0", versionFrom: '"packageManager" in package.json' });
    expect(plan.warnings).toEqual([]);
    const lockOnly = await detectApp(tree({ "package.json": pkg({ scripts: { start: "s" } }), "bun.lock": "{}" }));
    expect([lockOnly.packageManager, lockOnly.runImage.name]).toEqual(["bun", "bun"]);
    const deno = await detectApp(tree({ "package.json": pkg({ packageManager: "deno@2.0.0", scripts: { start: "s" } }) }));
    expect(deno.packageManager).toBe("npm");
    expect(deno.warnings.length).toBe(1);
  });

  test(".npmrc is copied with the manifests", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ scripts: { start: "s" } }), ".npmrc": "x=y\n" }));
    expect(plan.manifests).toEqual(["package.json", ".npmrc"]);
  });

  test("workspaces and install scripts copy the whole tree before installing", async () => {
    const ws = await detectApp(tree({ "package.json": pkg({ workspaces: ["a"], scripts: { start: "s" } }) }));
    expect(ws.manifests).toEqual([]);
    expect(ws.reasons.install).toContain("workspaces");
    const post = await detectApp(tree({ "package.json": pkg({ scripts: { start: "s", postinstall: "node x.js" } }) }));
    expect(post.manifests).toEqual([]);
    expect(post.reasons.install).toContain("postinstall");
  });
});

describe("start command", () => {
  test("Procfile web: beats scripts.start", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ scripts: { start: "node a.js" } }), Procfile: "web: node b.js\n" }));
    expect(plan.startCmd).toBe("node b.js");
    expect(plan.kind).toBe("node");
  });

  test("main made by the build is trusted", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ main: "dist/index.js", scripts: { build: "tsc" } }) }));
    expect(plan.startCmd).toBe("node dist/index.js");
  });

  test("main without extension is resolved", async () => {
    const plan = await detectApp(tree({ "package.json": pkg({ main: "lib/app" }), "lib/app.js": "" }));
    expect(plan.startCmd).toBe("node lib/app.js");
  });

  test("index.js, then server.js", async () => {
    expect((await detectApp(tree({ "package.json": pkg({}), "index.js": "", "server.js": "" }))).startCmd).toBe("node index.js");
    expect((await detectApp(tree({ "package.json": pkg({}), "server.js": "" }))).startCmd).toBe("node server.js");
  });

  test("nothing to start: a StepError that says what to add", async () => {
    const err = await detectError(tree({ "package.json": pkg({ scripts: { test: "x" } }) }));
    expect(err.message).toBe("could not find how to start the app");
    expect(err.hint).toContain("start script");
  });
});

describe("other kinds and errors", () => {
  test("public/index.html is a static site served from public/", async () => {
    const plan = await detectApp(tree({ "public/index.html": "<h1>x</h1>" }));
    expect(plan.kind).toBe("static");
    expect(plan.serve).toEqual({ dir: "public", spa: false });
    expect(plan.runImage).toEqual({ name: "static" });
  });

  test("a Procfile wins over index.html", async () => {
    const plan = await detectApp(tree({ Procfile: "web: busybox httpd -f -p $PORT\n", "index.html": "" }));
    expect(plan.kind).toBe("procfile");
  });

  test("railpack.json alone with a start command and install/build commands", async () => {
    const plan = await detectApp(
      tree({
        "railpack.json": JSON.stringify({
          steps: { install: { commands: ["./install.sh"] }, build: { commands: ["...", "make"] } },
          deploy: { startCommand: "./run" },
        }),
      }),
    );
    expect(plan.kind).toBe("procfile");
    expect(plan.startCmd).toBe("./run");
    expect(plan.installCmd).toBe("./install.sh");
    expect(plan.buildCmd).toBe("make");
  });

  test("an empty tree: a StepError listing what was looked for", async () => {
    const err = await detectError(tree({ "README.md": "hi" }));
    expect(err.hint).toContain("package.json");
    expect(err.hint).toContain("Procfile");
    expect(err.hint).toContain("index.html");
    expect(err.hint).toContain("Dockerfile");
  });

  test("broken package.json and railpack.json are StepErrors", async () => {
    expect((await detectError(tree({ "package.json": "{" }))).message).toContain("package.json is not valid JSON");
    expect((await detectError(tree({ "railpack.json": "{" }))).message).toContain("railpack.json is not valid JSON");
  });

  test("a parse error gives line and column, never the file's text", async () => {
    const pkgErr = await detectError(tree({ "package.json": '{\n  "name": secret-token-abc }' }));
    expect(pkgErr.message).toBe("package.json is not valid JSON (line 2, column 11)");
    const rpErr = await detectError(tree({ "railpack.json": "// ok\nroot:x:0:0" }));
    expect(rpErr.message).toBe("railpack.json is not valid JSON (line 2, column 1)");
  });

  test.each(["package.json", "Procfile", "railpack.json", "index.html", "package-lock.json", "yarn.lock", ".npmrc"])(
    "%s linked out of the tree fails naming it, with nothing of the target",
    async (name) => {
      const dir = tree(name === "package.json" ? {} : { "package.json": pkg({ scripts: { start: "node s.js" } }) });
      symlinkSync("/etc/passwd", join(dir, name));
      const err = await detectError(dir);
      expect(err.message).toBe(`${name} is a symbolic link out of the source tree; Kiln does not follow it`);
      expect(`${err.message}${err.hint}`).not.toContain("root:");
    },
  );

  test("a link inside the tree is read; a package.json \"main\" climbing out fails", async () => {
    const dir = tree({ "app/package.json": pkg({ scripts: { start: "node s.js" } }) });
    symlinkSync("app/package.json", join(dir, "package.json"));
    expect((await detectApp(dir)).startCmd).toBe("node s.js");
    const out = tree({ "package.json": pkg({ main: "../../etc/passwd" }) });
    expect((await detectError(out)).message).toBe("../../etc/passwd leads out of the source tree; Kiln does not follow it");
  });
});

describe("engines.node", () => {
  test(".nvmrc, then .node-version, then engines.node name the Node.js version asked for", async () => {
    const engines = { engines: { node: "^18" }, scripts: { start: "s" } };
    expect((await detectApp(tree({ "package.json": pkg(engines) }))).buildImage).toEqual({ name: "node", version: "^18", versionFrom: "engines.node in package.json" });
    expect((await detectApp(tree({ "package.json": pkg(engines), ".node-version": "22.1.0\n" }))).buildImage).toEqual({ name: "node", version: "22.1.0", versionFrom: ".node-version" });
    const both = tree({ "package.json": pkg(engines), ".node-version": "22", ".nvmrc": "v20.11.1\n" });
    expect((await detectApp(both)).runImage).toEqual({ name: "node", version: "20.11.1", versionFrom: ".nvmrc" });
    expect((await detectApp(tree({ "package.json": pkg({ scripts: { start: "s" } }) }))).buildImage).toEqual({ name: "node" });
  });

});

test("parseProcfile", () => {
  expect(parseProcfile("# comment\nweb: node a.js --x=1\nworker:  run  \n\nbad line\n")).toEqual({ web: "node a.js --x=1", worker: "run" });
  expect(parseProcfile("#web: no\n")).toEqual({});
});
