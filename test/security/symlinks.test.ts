/**
 * Repo files that are symbolic links to host files: Kiln never reads through them on the host.
 * A real `git daemon` serves repositories whose package.json, Procfile, Dockerfile, lockfile,
 * .dockerignore and railpack.json (or a directory) link to a host file holding a unique marker:
 * each deployment fails naming the link, and the marker appears in no log line (the WebSocket
 * replay), no failure reason, no API answer (deployment, builds) and no file Kiln wrote. A link
 * that stays inside the tree is followed, and a link out that Kiln never looks at is packed as a
 * link (the build succeeds). A tarball's links out are refused at extraction, saying so.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeTar } from "../../src/formats/tar/writer.ts";
import { git, makeRepo, startGitDaemon, type GitDaemon } from "../helpers/git-daemon.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";

const RUN = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
/** The host file's contents: a marker that would be JSON.parse's first token, and the dashed form. */
const MARKER = `KILN_HOST_MARKER_${RUN.replace(/-/g, "_")}`;
const MARKER_DASHED = `KILN-HOST-MARKER-${RUN}`;
const HOST_DIR = `/tmp/kiln-secret-dir-${RUN}`;
const HOST_FILE = `/tmp/kiln-secret-${RUN}.txt`;

let kiln: TestKiln;
let gitd: GitDaemon;

beforeAll(async () => {
  writeFileSync(HOST_FILE, `${MARKER} ${MARKER_DASHED}\nroot:x:0:0:root:/root:/bin/bash\n`);
  mkdirSync(HOST_DIR, { recursive: true });
  writeFileSync(join(HOST_DIR, "index.html"), `<h1>${MARKER_DASHED}</h1>`);
  writeFileSync(join(HOST_DIR, "package.json"), `{"name": ${MARKER}}`);
  kiln = await startTestKiln();
  gitd = await startGitDaemon();
}, 300_000);

afterAll(async () => {
  await kiln?.stop();
  await gitd?.stop();
  rmSync(HOST_FILE, { force: true });
  rmSync(HOST_DIR, { recursive: true, force: true });
});

/** A repo with `files` and `links` (path → target), committed as git symlinks. Returns its git:// URL. */
function repoWith(name: string, files: Record<string, string>, links: Record<string, string>): string {
  const dir = gitd.repoDir(name);
  makeRepo(dir, files);
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    symlinkSync(target, join(dir, path));
  }
  git(dir, "add", "--all");
  git(dir, "commit", "--quiet", "-m", "links");
  expect(git(dir, "ls-files", "-s", ...Object.keys(links)).split("\n").every((l) => l.startsWith("120000 "))).toBe(true);
  return gitd.url(name);
}

async function deploy(name: string, gitUrl: string): Promise<string> {
  const res = await kiln.api("/deployments", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, gitUrl }) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** Everything Kiln says about a deployment: the API's answers and its whole log, up to `lastLine`. */
async function everythingSaidAbout(id: string, lastLine: string): Promise<string> {
  const dep = await (await kiln.api(`/deployments/${id}`)).text();
  const builds = await (await kiln.api(`/deployments/${id}/builds`)).text();
  const lines = await kiln.logs(id, { until: (ls) => ls.some((l) => l.text.includes(lastLine)), timeoutMs: 15_000 });
  return [dep, builds, ...lines.map((l) => l.text)].join("\n");
}

/** Every file under Kiln's data dir (database, logs, uploads) that holds `needle`. */
function dataFilesHolding(needle: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 64 * 1024 * 1024 && readFileSync(p).includes(needle)) found.push(p);
    }
  };
  walk(kiln.config.dataDir);
  return found;
}

function expectNoMarker(text: string) {
  expect(text).not.toContain(MARKER);
  expect(text).not.toContain(MARKER_DASHED);
  expect(text).not.toContain("root:x:0:0");
}

describe("a git repo whose files link to host files", () => {
  const cases: [string, Record<string, string>, Record<string, string>, string][] = [
    [
      "package.json, Procfile, package-lock.json, .dockerignore and railpack.json (zero-config builder)",
      { "server.js": "require('http').createServer((q, s) => s.end('hi')).listen(process.env.PORT)\n" },
      { "package.json": HOST_FILE, Procfile: HOST_FILE, "package-lock.json": HOST_FILE, ".dockerignore": HOST_FILE, "railpack.json": HOST_FILE },
      "package.json is a symbolic link out of the source tree; Kiln does not follow it",
    ],
    ["a Dockerfile (Dockerfile builder)", { "README.md": "x\n" }, { Dockerfile: HOST_FILE }, "Dockerfile is a symbolic link out of the source tree; Kiln does not follow it"],
    [
      "a .dockerignore beside a real Dockerfile, through a relative link",
      { Dockerfile: "FROM scratch\nCOPY . /\n" },
      { ".dockerignore": `../../../../../../../..${HOST_FILE}` },
      ".dockerignore is a symbolic link out of the source tree; Kiln does not follow it",
    ],
    ["a Procfile through a chain of links", { "README.md": "x\n" }, { Procfile: "link-2", "link-2": HOST_FILE }, "Procfile goes through link-2, a symbolic link out of the source tree"],
    ["a directory: public -> a host directory", { "README.md": "x\n" }, { public: HOST_DIR }, "public is a symbolic link out of the source tree; Kiln does not follow it"],
  ];

  test.each(cases)("%s: the deployment fails naming it; the host file's contents appear nowhere", async (_what, files, links, reason) => {
    const name = `link-${cases.findIndex((c) => c[0] === _what)}`;
    const id = await deploy(name, repoWith(name, files, links));
    const done = await kiln.waitFor(id, ["failed", "running"], 240_000);
    expect(done.status).toBe("failed");
    expect(done.failureReason).toContain(reason);
    const said = await everythingSaidAbout(id, reason);
    expect(said).toContain(reason);
    expectNoMarker(said);
    expect(dataFilesHolding(MARKER)).toEqual([]);
    expect(dataFilesHolding(MARKER_DASHED)).toEqual([]);
  }, 300_000);

  test("a link inside the tree is followed; a link out that Kiln never reads is packed as a link", async () => {
    const id = await deploy(
      "link-inside",
      repoWith("link-inside", { "site/index.html": "<h1>inside the tree</h1>\n" }, { "index.html": "site/index.html", "notes.txt": HOST_FILE }),
    );
    const done = await kiln.waitFor(id, ["failed", "running"], 240_000);
    expect(done.failureReason).toBeNull();
    expect(done.status).toBe("running");
    expect(await (await kiln.viaSubdomain("link-inside", "/")).text()).toContain("inside the tree");
    const notes = await kiln.viaSubdomain("link-inside", "/notes.txt"); // a link to a path the container lacks
    expectNoMarker(await notes.text());
    expect(notes.status).toBe(404);
    expectNoMarker(await everythingSaidAbout(id, "kiln: start:"));
  }, 300_000);
});

describe("a tarball upload", () => {
  test("a link out of the tree is refused at extraction, saying so; nothing of the target is read", async () => {
    const tar = encodeTar([
      { path: "server.js", type: "file", mode: 0o644, data: "x" },
      { path: "package.json", type: "symlink", linkname: HOST_FILE },
    ]);
    const res = await kiln.api("/deployments/upload?name=tar-link", { method: "POST", body: tar });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const done = await kiln.waitFor(id, ["failed", "running"], 60_000);
    expect(done.status).toBe("failed");
    expect(done.failureReason).toContain('tarball entry "package.json" is a symlink to');
    expect(done.failureReason).toContain("points outside the source directory");
    expectNoMarker(await everythingSaidAbout(id, "points outside the source directory"));
  }, 120_000);
});
