/**
 * Go apps, after Railpack's Go provider: go.mod, go.work or a main.go. Modules are downloaded
 * first (`go mod download`, only when go.mod requires any and there is no vendor/), then the main
 * package is built without cgo into one static binary: the root package when it has .go files,
 * else the first ./cmd/<name>, else a go.work module with a main.go, else main.go alone. The
 * binary runs on Kiln's Node.js image (for now: it has sh and busybox; the binary needs neither
 * Go nor libc), with the rest of the tree beside it as Railpack does (templates, static files).
 */
import { readdirBeneath } from "../../fs/beneath.ts";
import { DETECTED, joinCommands } from "../railpack-config.ts";
import { DEFAULT_PORT, type AppPlan, type RuntimeRequest } from "../plan.ts";
import type { Tree } from "../tree.ts";
import { shellWord, type DetectContext, type Provider } from "./provider.ts";

/** Build caches: compiled packages (std included, so a rebuild skips it) and downloaded modules. */
export const GO_CACHES = [
  { id: "kiln-go-build", target: "/root/.cache/go-build" },
  { id: "kiln-go-mod", target: "/go/pkg/mod" },
];
const BINARY_NAMES = ["server", "out", "kiln-app"];

export const goProvider: Provider = {
  name: "go",
  looksAt: ["go.mod", "go.sum", "go.work", "go.work.sum", "main.go", "cmd", "vendor", ".go-version"],
  async plan(ctx) {
    const { tree } = ctx;
    if (!tree.has("go.mod") && !tree.has("go.work") && !(await tree.isFile("main.go"))) return null;
    return goPlan(ctx);
  },
};

async function goPlan(ctx: DetectContext): Promise<AppPlan> {
  const { tree, warnings } = ctx;
  const goMod = (await tree.text("go.mod")) ?? "";
  const reasons: AppPlan["reasons"] = { kind: `found ${["go.mod", "go.work", "main.go"].find((f) => tree.has(f))}` };
  const rp = ctx.railpack;

  // install
  const requires = /^\s*require\b/m.test(goMod);
  const vendored = tree.has("vendor") && (await tree.isFile("vendor/modules.txt"));
  let installCmd: string | undefined = requires && !vendored ? "go mod download" : undefined;
  let manifests = installCmd ? present(tree, ["go.mod", "go.sum", "go.work", "go.work.sum"]) : [];
  reasons.install = vendored
    ? "vendor/ holds the modules: nothing to download"
    : requires
      ? "go.mod requires modules: downloaded before the sources are copied"
      : "go.mod requires no modules: nothing to download";
  if (tree.has("go.work") && installCmd) manifests = []; // the workspace's modules have go.mod files of their own
  if (rp?.install) {
    installCmd = joinCommands(rp.install, installCmd);
    manifests = [];
    reasons.install = "steps.install.commands in railpack.json (run with the whole tree copied)";
  }

  // build
  const binary = `/app/${BINARY_NAMES.find((n) => !tree.has(n)) ?? BINARY_NAMES.at(-1)}`;
  const target = await mainPackage(tree, goMod !== "");
  const detectedBuild = `go build -trimpath -ldflags="-w -s" -o ${binary} ${target.path}`;
  let buildCmd = detectedBuild;
  reasons.build = `${target.reason}; CGO_ENABLED=0: one static binary`;
  if (rp?.build) {
    buildCmd = joinCommands(rp.build, detectedBuild) ?? detectedBuild;
    reasons.build = rp.build.includes(DETECTED) ? 'steps.build.commands in railpack.json ("..." = go build)' : "steps.build.commands in railpack.json";
  }

  // start
  let startCmd = binary;
  reasons.start = `the binary go build made (${binary})`;
  if (rp?.start) [startCmd, reasons.start] = [rp.start, "deploy.startCommand in railpack.json"];
  else if (ctx.procfileWeb) [startCmd, reasons.start] = [ctx.procfileWeb, "the web: line of the Procfile"];
  reasons.port = `PORT=${DEFAULT_PORT} is set in the image; the app must listen on $PORT`;

  const build = await goVersion(tree, goMod);
  if (build.version) reasons.runtime = `Go ${build.version} (${build.versionFrom})`;
  return {
    kind: "go",
    manifests,
    installCmd,
    buildCmd,
    startCmd,
    port: DEFAULT_PORT,
    buildImage: build,
    runImage: { name: "node" },
    // GOTOOLCHAIN=local: a go line newer than the image's Go fails saying so, instead of downloading a toolchain.
    buildEnv: { CGO_ENABLED: "0", GOTOOLCHAIN: "local" },
    caches: GO_CACHES,
    reasons,
    warnings,
  };
}

/** The main package to build, in Railpack's order. */
async function mainPackage(tree: Tree, hasGoMod: boolean): Promise<{ path: string; reason: string }> {
  if (hasGoMod && [...tree.names].some((n) => n.endsWith(".go") && !n.endsWith("_test.go"))) {
    return { path: ".", reason: "the root package (go.mod and .go files at the root)" };
  }
  const cmds = (await readdirBeneath(tree.dir, "cmd")).filter((e) => e.kind === "directory");
  if (cmds.length > 0) return { path: `./cmd/${shellWord(cmds[0]!.name)}`, reason: `the first command in cmd/ (cmd/${cmds[0]!.name})` };
  if (hasGoMod) return { path: ".", reason: "the root package" };
  const work = await tree.text("go.work");
  if (work !== null) {
    for (const dir of workspaceModules(work)) {
      if (await tree.isFile(`${dir}/main.go`)) return { path: `./${shellWord(dir)}`, reason: `the go.work module with a main.go (${dir})` };
    }
  }
  return { path: "main.go", reason: "main.go alone (no go.mod)" };
}

/** The directories of a go.work's `use` directives ("use ./api", "use ( ./api ./web )"). */
export function workspaceModules(text: string): string[] {
  const out: string[] = [];
  const body = text.replace(/\/\/.*$/gm, "");
  for (const m of body.matchAll(/^\s*use\s*(?:\(([^)]*)\)|(\S+))/gm)) {
    for (const dir of (m[1] ?? m[2] ?? "").split(/\s+/)) {
      const clean = dir.replace(/^"|"$/g, "").replace(/^\.\//, "").replace(/\/$/, "");
      if (clean && clean !== "." && !clean.startsWith("..") && !clean.startsWith("/")) out.push(clean);
    }
  }
  return out;
}

/** .go-version (mise, as Railpack reads it) over go.mod's go line. */
async function goVersion(tree: Tree, goMod: string): Promise<RuntimeRequest> {
  const file = (await tree.text(".go-version"))?.trim().split(/\s+/)[0]?.replace(/^go/, "");
  if (file) return { name: "go", version: file, versionFrom: ".go-version" };
  const line = /^\s*go\s+(\d+\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?)\s*$/m.exec(goMod)?.[1];
  return line ? { name: "go", version: line, versionFrom: "go.mod" } : { name: "go" };
}

function present(tree: Tree, files: string[]): string[] {
  return files.filter((f) => tree.has(f));
}
