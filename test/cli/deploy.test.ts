/** The CLI as its own process against a real Kiln: deploy, ls, logs, failures, auth, usage. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { makeRepo, startGitDaemon } from "../helpers/git-daemon.ts";
import { runCli } from "./run-cli.ts";

const HELLO = join(import.meta.dir, "../../examples/hello-node");
let kiln: TestKiln;
let env: Record<string, string>;
let scratch: string;

beforeAll(async () => {
  // 1 MiB upload cap: the .kilnignore test's 3 MiB file would be refused if it were sent.
  kiln = await startTestKiln({ KILN_MAX_UPLOAD_MB: "1" });
  env = { KILN_URL: kiln.apiUrl, KILN_TOKEN: kiln.token };
  scratch = mkdtempSync(join(tmpdir(), "kiln-cli-"));
});

afterAll(async () => {
  await kiln?.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 60_000);

test("kiln deploy <folder> waits until running, prints the URL, and the app answers through Caddy", async () => {
  const r = await runCli(["deploy", HELLO, "--name", "cli-hello"], env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`cli-hello is running at http://cli-hello.localhost:${kiln.publicPort}/`);
  expect(r.stdout).toMatch(/^build\t/m); // the build log was streamed
  const res = await kiln.viaSubdomain("cli-hello");
  expect(res.status).toBe(200);
  expect(await res.text()).toContain("hello from kiln");
}, 120_000);

test("kiln deploy <git-url> --ref --env: the server clones it, the app sees the env", async () => {
  const daemon = await startGitDaemon();
  try {
    const server = "require('http').createServer((q,r)=>r.end('greeting='+process.env.GREETING)).listen(process.env.PORT)";
    makeRepo(daemon.repoDir("app.git"), { "package.json": JSON.stringify({ name: "g", scripts: { start: "node server.js" } }), "server.js": server });
    const r = await runCli(["deploy", daemon.url("app.git"), "--name", "cli-git", "--ref", "main", "--env", "GREETING=hi there"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await (await kiln.viaSubdomain("cli-git")).text()).toBe("greeting=hi there");
    const ls = JSON.parse((await runCli(["ls", "--json"], env)).stdout) as { deployments: { name: string; envKeys: string[] }[] };
    expect(ls.deployments.find((d) => d.name === "cli-git")?.envKeys).toEqual(["GREETING"]);
    expect((await runCli(["rm", "cli-git", "--yes"], env)).code).toBe(0);
  } finally {
    await daemon.stop();
  }
}, 120_000);

test("kiln ls --json lists it; kiln ls prints a table", async () => {
  const r = await runCli(["ls", "--json"], env);
  expect(r.code).toBe(0);
  const body = JSON.parse(r.stdout) as { deployments: { name: string; status: string }[] };
  expect(body.deployments.find((d) => d.name === "cli-hello")?.status).toBe("running");
  const t = await runCli(["ls"], env);
  expect(t.code).toBe(0);
  expect(t.stdout).toMatch(/^NAME\s+STATUS\s+URL/);
  expect(t.stdout).toMatch(/cli-hello\s+running/);
});

test("kiln logs prints the build lines; --json prints one LogLine per line", async () => {
  const r = await runCli(["logs", "cli-hello"], env);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^build\t/m);
  const j = await runCli(["logs", "cli-hello", "--json", "--since", "2"], env);
  const first = JSON.parse(j.stdout.split("\n")[0]!) as { seq: number; stream: string };
  expect(first.seq).toBe(2);
  const missing = await runCli(["logs", "no-such-app"], env);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("no-such-app");
});

test("kiln deploy of a folder that cannot build exits 1 with the reason", async () => {
  const dir = join(scratch, "nothing");
  cpSync(HELLO, dir, { recursive: true, filter: (p) => !p.endsWith(".js") && !p.endsWith(".json") });
  writeFileSync(join(dir, "README.txt"), "no app here\n");
  const r = await runCli(["deploy", dir, "--name", "cli-broken"], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("cli-broken failed: could not detect how to build this app");
}, 60_000);

test(".kilnignore is honoured: a big ignored file is never uploaded", async () => {
  const dir = join(scratch, "ignored");
  cpSync(HELLO, dir, { recursive: true });
  writeFileSync(join(dir, "big.bin"), randomBytes(3 * 1024 * 1024)); // over the 1 MiB cap, incompressible
  writeFileSync(join(dir, ".kilnignore"), "# test data\nbig.bin\n");
  const r = await runCli(["deploy", dir, "--name", "cli-ignore", "--detach", "--json"], env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect((JSON.parse(r.stdout) as { name: string }).name).toBe("cli-ignore");
  // Without the .kilnignore the same folder is refused by the upload cap.
  rmSync(join(dir, ".kilnignore"));
  const refused = await runCli(["deploy", dir, "--name", "cli-ignore2"], env);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("over the limit: the upload cap is");
  await runCli(["rm", "cli-ignore", "--yes"], env);
}, 60_000);

test("a wrong token exits 3 with a readable message; an unreachable server too", async () => {
  const r = await runCli(["ls"], { KILN_URL: kiln.apiUrl, KILN_TOKEN: "wrong-token-0123456789" });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain("the API token is wrong");
  expect(r.stderr).toContain("hint:");
  const down = await runCli(["ls", "--url", "http://127.0.0.1:9", "--token", "x"], {});
  expect(down.code).toBe(3);
  expect(down.stderr).toContain("cannot reach Kiln");
});

test("the token is read from $KILN_DATA_DIR/api-token when no flag or KILN_TOKEN is given", async () => {
  const dir = join(scratch, "data");
  cpSync(join(kiln.config.dataDir, "api-token"), join(dir, "api-token"));
  const r = await runCli(["ls", "--json"], { KILN_DATA_DIR: dir, KILN_API_PORT: String(kiln.config.api.port) });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).deployments).toBeArray();
});

test("usage errors exit 2: unknown command, unknown flag, missing argument, rm without --yes off a terminal", async () => {
  expect((await runCli(["frobnicate"], env)).code).toBe(2);
  expect((await runCli(["ls", "--bogus"], env)).code).toBe(2);
  const missing = await runCli(["logs"], env);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("missing <name|id>");
  expect((await runCli(["rm", "cli-hello"], env)).code).toBe(2);
  const help = await runCli(["deploy", "--help"], env);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("Example");
});

test("the CLI compiles to a single binary that works on its own", async () => {
  // Async spawns only: this process serves the Kiln the binary talks to.
  const bin = join(scratch, "kiln");
  const build = Bun.spawn(["bun", "build", "--compile", "bin/kiln", "--loader=:ts", "--outfile", bin], { cwd: join(import.meta.dir, "../.."), stdout: "ignore", stderr: "pipe" });
  expect(await build.exited).toBe(0);
  const run = Bun.spawn([bin, "ls", "--json"], { cwd: scratch, env: { ...env, PATH: "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text()]);
  expect(stderr).toBe("");
  expect(await run.exited).toBe(0);
  expect(JSON.parse(stdout).deployments.map((d: { name: string }) => d.name)).toContain("cli-hello");
}, 60_000);

test("kiln stop, redeploy --wait and rm --yes", async () => {
  const s = await runCli(["stop", "cli-hello", "--json"], env);
  expect(s.code).toBe(0);
  expect(JSON.parse(s.stdout).status).toBe("stopped");
  const r = await runCli(["redeploy", "cli-hello", "--wait"], env);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("cli-hello is running at");
  const rm = await runCli(["rm", "cli-hello", "--yes"], env);
  expect(rm.code).toBe(0);
  expect((await runCli(["logs", "cli-hello"], env)).code).toBe(1);
}, 120_000);
