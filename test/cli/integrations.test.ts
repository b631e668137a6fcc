/**
 * Domains, TLS, webhooks and previews from the CLI, as its own process against a real Kiln (Docker +
 * Caddy, KILN_TLS off) and a real `git daemon`: kiln domains add/ls/rm with the app answering at the
 * domain through Caddy and 404 once removed, refusals with the server's words (not a DNS name, a
 * host another app holds); kiln tls root-pem (refused with TLS off, a PEM from a KILN_TLS=internal
 * Kiln); kiln webhook create shows the secret once (it works; rotating makes the old one fail) and
 * show never does; kiln settings set previews.*, kiln previews create/ls serving a branch.
 * One app from git (plus a second for the taken host); the tests run in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { commitFiles, git, makeRepo, startGitDaemon, type GitDaemon } from "../helpers/git-daemon.ts";
import { freePort } from "../helpers/ports.ts";
import { runCli } from "./run-cli.ts";

const APP = "cli-int";
const OTHER = "cli-int-other";
const HOST = "shop.cli-int.example";
let kiln: TestKiln;
let gitd: GitDaemon;
let repo: string;
let env: Record<string, string>;

/** A tiny app that says which VERSION it was built from. */
function appFiles(version: string): Record<string, string> {
  return {
    "package.json": JSON.stringify({ name: "ci", version: "1.0.0", private: true, main: "server.js", scripts: { start: "node server.js" } }),
    "server.js": `const fs = require("fs");
const VERSION = fs.readFileSync(__dirname + "/VERSION", "utf8").trim();
require("http").createServer((req, res) => res.end("version=" + VERSION + "\\n")).listen(Number(process.env.PORT || 3000), "0.0.0.0");
`,
    VERSION: `${version}\n`,
  };
}

const cli = (...args: string[]) => runCli(args, env);
/** GET / through Caddy with `host` as the Host header. */
const viaHost = (host: string) => fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: `${host}:${kiln.publicPort}` } });

/** The status of the app's second build once it is done (bounded wait). */
async function secondBuild(timeoutMs = 150_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: string }[] = [];
  while (Date.now() < deadline) {
    last = ((await (await kiln.api(`/deployments/${APP}/builds`)).json()) as { builds: { status: string }[] }).builds;
    if (last.length >= 2 && ["succeeded", "failed", "cancelled"].includes(last[0]!.status)) return last[0]!.status;
    await Bun.sleep(250);
  }
  throw new Error(`no second build finished; builds: ${JSON.stringify(last.map((b) => b.status))}`);
}

beforeAll(async () => {
  [kiln, gitd] = await Promise.all([startTestKiln(), startGitDaemon()]);
  env = { KILN_URL: kiln.apiUrl, KILN_TOKEN: kiln.token };
  repo = gitd.repoDir("ci.git");
  makeRepo(repo, appFiles("main-v1"));
  for (const name of [APP, OTHER]) {
    const r = await cli("deploy", gitd.url("ci.git"), "--name", name);
    if (r.code !== 0) throw new Error(`kiln deploy ${name}: ${r.code}\n${r.stdout}\n${r.stderr}`);
  }
}, 300_000);

afterAll(async () => {
  await kiln?.rollout.settled();
  await kiln?.stop();
  await gitd?.stop();
}, 120_000);

describe("kiln domains", () => {
  test("add prints the URL and what happens next (http: TLS is off); the app answers at the domain through Caddy", async () => {
    const r = await cli("domains", "add", APP, HOST);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${HOST} attached to ${APP}: http://${HOST}:${kiln.publicPort}/`);
    expect(r.stdout).toMatch(/^ {2}http: served over plain HTTP at .*KILN_TLS=off/m);
    const res = await viaHost(HOST);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("version=main-v1\n");
  }, 30_000);

  test("ls shows host, status, certificate expiry and detail; --json is the API's list", async () => {
    const r = await cli("domains", "ls", APP);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HOST\s+STATUS\s+CERT EXPIRES\s+DETAIL$/m);
    expect(r.stdout).toMatch(new RegExp(`^${HOST.replace(/\./g, "\\.")}\\s+http\\s+-\\s+served over plain HTTP`, "m"));
    const j = JSON.parse((await cli("domains", "ls", APP, "--json")).stdout) as { domains: { host: string; status: string; certificate: unknown }[] };
    expect(j.domains).toEqual([expect.objectContaining({ host: HOST, status: "http", certificate: null })]);
  }, 30_000);

  test("refusals: not a DNS name, an IP, a host another app holds, an unknown app — non-zero with the server's message", async () => {
    const bad = await cli("domains", "add", APP, "not a host!");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"not a host!" is not a DNS name');
    const ip = await cli("domains", "add", APP, "10.1.2.3");
    expect(ip.code).toBe(1);
    expect(ip.stderr).toContain("is an IP address, not a domain");
    const taken = await cli("domains", "add", OTHER, HOST);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`${HOST} is attached to the app ${APP}`);
    expect(taken.stderr).toContain(`hint: detach it there first`);
    const unknown = await cli("domains", "ls", "no-such-app");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no-such-app");
    expect((await cli("domains", "add", APP)).code).toBe(2);
    expect((await cli("domains", "frob", APP)).code).toBe(2);
    expect(await (await viaHost(HOST)).text()).toBe("version=main-v1\n"); // still the first app's
  }, 30_000);

  test("rm detaches: the domain answers 404, ls says there are none, rm again fails", async () => {
    const r = await cli("domains", "rm", APP, HOST);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${HOST} detached from ${APP}`);
    expect((await viaHost(HOST)).status).toBe(404);
    expect((await cli("domains", "ls", APP)).stdout).toContain(`${APP} has no domains of its own`);
    const again = await cli("domains", "rm", APP, HOST);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${HOST} is not attached to ${APP}`);
    // now free: the other app may take it
    expect((await cli("domains", "add", OTHER, HOST)).code).toBe(0);
    expect((await cli("domains", "rm", OTHER, HOST)).code).toBe(0);
  }, 30_000);
});

describe("kiln tls root-pem", () => {
  test("with TLS off: exit 1 saying there is no internal CA and how to get one", async () => {
    const r = await cli("tls", "root-pem");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("there is no internal CA: KILN_TLS is off");
    expect(r.stderr).toContain("KILN_TLS=internal");
    expect((await cli("tls")).code).toBe(2);
  }, 30_000);

  test("with KILN_TLS=internal: the root certificate as PEM on stdout, ready for > kiln-root.pem", async () => {
    const internal = await startTestKiln({ KILN_TLS: "internal", KILN_HTTPS_PORT: String(freePort()) });
    try {
      const r = await runCli(["tls", "root-pem"], { KILN_URL: internal.apiUrl, KILN_TOKEN: internal.token });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith("-----BEGIN CERTIFICATE-----\n");
      expect(r.stdout.trimEnd()).toEndWith("-----END CERTIFICATE-----");
      const pem = await (await internal.api("/tls/root.pem")).text();
      expect(r.stdout.trimEnd()).toBe(pem.trimEnd());
    } finally {
      await internal.stop();
    }
  }, 90_000);
});

describe("kiln webhook", () => {
  let secret = "";

  test("create prints the public URL, the secret once and the per-host hints; the secret works", async () => {
    expect((await cli("webhook", "show", APP)).stdout).toContain(`${APP} has no webhook; make one with: kiln webhook create ${APP}`);
    const r = await cli("webhook", "create", APP);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`created a webhook for ${APP}`);
    const url = /^ {2}URL: +(\S+)$/m.exec(r.stdout)?.[1];
    expect(url).toMatch(new RegExp(`^http://localhost:${kiln.publicPort}/_kiln/hooks/[A-Za-z0-9_-]+$`));
    secret = /^ {2}secret: +(\S+)$/m.exec(r.stdout)?.[1] ?? "";
    expect(secret.length).toBeGreaterThanOrEqual(20);
    expect(r.stdout).toContain("shown only now");
    for (const host of ["GitHub:", "GitLab:", "Gitea/Forgejo:", "any CI:"]) expect(r.stdout).toContain(host);
    // the printed secret is the hook's: a generic delivery with it redeploys the app
    const hook = new URL(url!).pathname.replace("/_kiln/hooks/", "/api/v1/hooks/");
    const delivery = await fetch(`${kiln.apiUrl}${hook}`, { method: "POST", headers: { authorization: `Bearer ${secret}` } });
    expect(delivery.status).toBe(202);
    expect(await secondBuild()).toBe("succeeded");
    expect((await kiln.waitFor(APP, ["running", "failed"])).status).toBe("running");
  }, 180_000);

  test("show gives the URL and never the secret, in text or JSON", async () => {
    const r = await cli("webhook", "show", APP);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${APP} has a webhook`);
    expect(r.stdout).toContain(`/_kiln/hooks/`);
    expect(r.stdout).not.toContain(secret);
    const j = await cli("webhook", "show", APP, "--json");
    expect(j.stdout).not.toContain(secret);
    expect(JSON.parse(j.stdout)).toEqual({ configured: true, url: expect.any(String), publicUrl: expect.stringContaining("/_kiln/hooks/"), createdAt: expect.any(String) });
  }, 30_000);

  test("create again rotates: a new secret, the old one refused; rm removes the hook", async () => {
    const r = await cli("webhook", "create", APP, "--json");
    expect(r.code).toBe(0);
    const made = JSON.parse(r.stdout) as { url: string; secret: string; rotated: boolean };
    expect(made.rotated).toBe(true);
    expect(made.secret).not.toBe(secret);
    expect((await fetch(made.url, { method: "POST", headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
    const rm = await cli("webhook", "rm", APP);
    expect(rm.code).toBe(0);
    expect((await cli("webhook", "show", APP)).stdout).toContain("has no webhook");
    expect((await fetch(made.url, { method: "POST", headers: { authorization: `Bearer ${made.secret}` } })).status).toBe(404);
    expect((await cli("webhook", "rm", APP)).code).toBe(1);
    expect((await cli("webhook", "create", "no-such-app")).code).toBe(1);
  }, 30_000);
});

describe("kiln previews", () => {
  test("create while previews are off: exit 1 with how to turn them on", async () => {
    const r = await cli("previews", "create", APP, "main");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("previews are off");
    expect(r.stderr).toContain("hint:");
  }, 30_000);

  test("kiln settings set previews.enabled=true previews.ttl=24 changes only those fields", async () => {
    const r = await cli("settings", "set", APP, "previews.enabled=true", "previews.ttl=24");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = JSON.parse((await cli("settings", APP, "--json")).stdout) as { previews: unknown };
    expect(s.previews).toEqual({ enabled: true, ttl: 24, max: 5, forks: false, secrets: false });
    expect((await cli("settings", APP)).stdout).toMatch(/^previews\s+on \(ttl 24h, max 5, forks no, secrets no\)$/m);
    const bad = await cli("settings", "set", APP, "previews.enabled=maybe");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("previews.enabled is true or false");
  }, 90_000);

  test("create builds a branch at its own URL; ls lists it; the app is untouched", async () => {
    git(repo, "checkout", "--quiet", "-b", "feature");
    const sha = commitFiles(repo, { VERSION: "feature-v1\n" }, "feature v1");
    git(repo, "checkout", "--quiet", "main");
    const r = await cli("previews", "create", APP, "feature");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`preview ${APP}-feature of feature is`);
    expect(r.stdout).toContain(`kiln logs -f ${APP}-feature`);
    const d = await kiln.waitFor(`${APP}-feature`, ["running", "failed"], 180_000);
    expect(d.status).toBe("running");
    expect(await (await kiln.viaSubdomain(`${APP}-feature`)).text()).toBe("version=feature-v1\n");
    expect(await (await kiln.viaSubdomain(APP)).text()).toBe("version=main-v1\n");

    const ls = await cli("previews", "ls", APP);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^NAME\s+STATUS\s+PR\s+REF\s+COMMIT\s+URL\s+AGE$/m);
    expect(ls.stdout).toMatch(new RegExp(`^${APP}-feature\\s+running\\s+-\\s+feature\\s+${sha.slice(0, 7)}\\s+http://${APP}-feature\\.localhost:${kiln.publicPort}/`, "m"));
    const j = JSON.parse((await cli("previews", "ls", APP, "--json")).stdout) as { previews: { name: string; preview: { ref: string }; currentBuild: { commit: string } }[] };
    expect(j.previews.map((p) => [p.name, p.preview.ref, p.currentBuild.commit])).toEqual([[`${APP}-feature`, "feature", sha]]);
    expect((await cli("previews", "ls", OTHER)).stdout).toContain(`${OTHER} has no previews`);
    expect((await cli("previews", "create", APP)).code).toBe(2);
    const badRef = await cli("previews", "create", APP, "a b");
    expect(badRef.code).toBe(1);
  }, 240_000);
});
