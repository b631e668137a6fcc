/**
 * Day two from the CLI, as its own process against a real Kiln (Docker + Caddy): deploy an app with
 * --env, change its env, list releases, roll back, change settings, delete with --volumes — each
 * checked through the app itself — and the refusals (unknown app, bad KEY=VALUE, bad settings key).
 * Secret values given on the command line never come back on stdout or stderr.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { runCli, type CliResult } from "./run-cli.ts";

const APP = join(import.meta.dir, "../fixtures/env-echo");
const NAME = "cli-day2";
const FIRST = "first-s3cret-value";
const SECOND = "second-s3cret-value";
let kiln: TestKiln;
let env: Record<string, string>;
let scratch: string;

beforeAll(async () => {
  kiln = await startTestKiln();
  env = { KILN_URL: kiln.apiUrl, KILN_TOKEN: kiln.token };
  scratch = mkdtempSync(join(tmpdir(), "kiln-cli-day2-"));
});

afterAll(async () => {
  await kiln?.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 60_000);

const cli = (...args: string[]) => runCli(args, env);
const body = async (path = "/") => (await kiln.viaSubdomain(NAME, path)).text();

/** No secret value appears in anything the CLI printed. */
function expectNoValues(r: CliResult) {
  for (const v of [FIRST, SECOND]) {
    expect(r.stdout).not.toContain(v);
    expect(r.stderr).not.toContain(v);
  }
}

test("kiln deploy <folder> --env --env-file: the upload carries the env, the app sees it, values are not printed", async () => {
  const file = join(scratch, ".env");
  writeFileSync(file, `# from a file\nGREETING=from-the-file\nFROM_FILE="yes"\n`);
  const r = await cli("deploy", APP, "--name", NAME, "--env-file", file, "--env", `GREETING=${FIRST}`);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expectNoValues(r);
  expect(await body()).toBe(`greeting=${FIRST} port=3000\n`); // --env wins over the file
  const ls = await cli("env", "ls", NAME, "--json");
  expect((JSON.parse(ls.stdout) as { env: { key: string }[] }).env.map((e) => e.key).sort()).toEqual(["FROM_FILE", "GREETING"]);
}, 150_000);

test("kiln env set waits for the new release; the app answers with the new value; nothing echoes it", async () => {
  const r = await cli("env", "set", NAME, `GREETING=${SECOND}`, "PUBLIC_FLAG=on", "--no-secret");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expectNoValues(r);
  expect(r.stdout).toMatch(/cli-day2: release #2 serving \(env: .*GREETING/);
  expect(await body()).toBe(`greeting=${SECOND} port=3000\n`);
}, 90_000);

test("kiln env ls shows names and flags, never values", async () => {
  const r = await cli("env", "ls", NAME);
  expect(r.code).toBe(0);
  expectNoValues(r);
  expect(r.stdout).toMatch(/^NAME\s+SECRET\s+BUILD-TIME/);
  expect(r.stdout).toMatch(/^GREETING\s+no\s+no$/m); // --no-secret applied to every pair of that set
  expect(r.stdout).toMatch(/^FROM_FILE\s+yes\s+no$/m);
  expect(r.stdout).not.toContain("from-the-file");
  const set = await cli("env", "set", NAME, "BUILD_ONLY=x", "--build-time");
  expect(set.code).toBe(0);
  expect((await cli("env", "ls", NAME)).stdout).toMatch(/^BUILD_ONLY\s+yes\s+yes$/m);
}, 150_000);

test("kiln releases lists every release, the serving one marked, made via the CLI", async () => {
  const r = await cli("releases", NAME);
  expect(r.code).toBe(0);
  expectNoValues(r);
  expect(r.stdout).toMatch(/^RELEASE\s+CURRENT\s+TRIGGER\s+VIA\s+DESCRIPTION\s+IMAGE\s+AGE/);
  expect(r.stdout).toMatch(/^#3\s+\*\s+env\s+cli\s/m);
  expect(r.stdout).toMatch(/^#2\s+env\s+cli\s/m);
  expect(r.stdout).toMatch(/^#1\s+deploy\s+cli\s+first deploy/m);
  const j = JSON.parse((await cli("releases", NAME, "--json")).stdout) as { releases: { number: number; current: boolean; via: string }[] };
  expect(j.releases.length).toBeGreaterThanOrEqual(2);
  expect(j.releases.filter((x) => x.current).map((x) => x.number)).toEqual([3]);
}, 30_000);

test("kiln rollback <app> 1 serves release #1's env again; kiln rollback <app> goes back one", async () => {
  const r = await cli("rollback", NAME, "1");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("release #4 serving (rollback to release #1)");
  expect(await body()).toBe(`greeting=${FIRST} port=3000\n`);
  const back = await cli("rollback", NAME);
  expect(back.code).toBe(0);
  expect(back.stdout).toContain("release #5 serving (rollback to release #3)");
  expect(await body()).toBe(`greeting=${SECOND} port=3000\n`);
  const missing = await cli("rollback", NAME, "99");
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("99");
  expect(await body()).toBe(`greeting=${SECOND} port=3000\n`); // still serving
}, 120_000);

test("kiln settings set: replicas, health check, port and a volume, parsed to the PATCH body; kiln settings shows them", async () => {
  const r = await cli("settings", "set", NAME, "replicas=2", "healthcheck.path=/healthz", "port=8080", "volumes=data:/data", "memory=256m");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/release #6 serving \(settings: /);
  expect(await body()).toBe(`greeting=${SECOND} port=8080\n`);
  const show = await cli("settings", NAME);
  expect(show.code).toBe(0);
  expect(show.stdout).toMatch(/^replicas\s+2$/m);
  expect(show.stdout).toMatch(/^port\s+8080$/m);
  expect(show.stdout).toMatch(/^healthcheck\s+\/healthz \(/m);
  expect(show.stdout).toMatch(/^volumes\s+data:\/data$/m);
  expect(show.stdout).toMatch(/^memory\s+256 MB$/m);
  const j = JSON.parse((await cli("settings", NAME, "--json")).stdout) as { replicas: number; healthcheck: { path: string; timeout: number } };
  expect(j).toMatchObject({ replicas: 2, healthcheck: { path: "/healthz", timeout: 2 } });
  // healthcheck.* merges into the current check
  const t = await cli("settings", "set", NAME, "healthcheck.timeout=3", "replicas=1");
  expect(t.code).toBe(0);
  expect(JSON.parse((await cli("settings", NAME, "--json")).stdout)).toMatchObject({ replicas: 1, healthcheck: { path: "/healthz", timeout: 3 } });
}, 150_000);

test("kiln env unset removes a variable with a new release", async () => {
  const r = await cli("env", "unset", NAME, "GREETING");
  expect(r.code).toBe(0);
  expect(await body()).toBe("greeting=(unset) port=8080\n");
  expect((await cli("env", "ls", NAME)).stdout).not.toMatch(/^GREETING/m);
}, 90_000);

test("refusals: unknown app, bad KEY=VALUE, bad settings key or value, PORT — exit non-zero with what to fix", async () => {
  const unknown = await cli("env", "ls", "no-such-app");
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("no-such-app");
  expect((await cli("releases", "no-such-app")).code).toBe(1);
  expect((await cli("rollback", "no-such-app")).code).toBe(1);

  const badPair = await cli("env", "set", NAME, "JUST-A-s3cret-TOKEN");
  expect(badPair.code).toBe(2);
  expect(badPair.stderr).toContain("env set takes KEY=VALUE");
  expect(badPair.stderr).not.toContain("s3cret");
  const badName = await cli("env", "set", NAME, "1BAD=s3cret");
  expect(badName.code).toBe(2);
  expect(badName.stderr).toContain("is not a variable name");
  expect(badName.stderr).not.toContain("s3cret");
  const port = await cli("env", "set", NAME, "PORT=1234");
  expect(port.code).toBe(1);
  expect(port.stderr).toContain("PORT is set by Kiln");

  const badKey = await cli("settings", "set", NAME, "replica=2");
  expect(badKey.code).toBe(2);
  expect(badKey.stderr).toContain('unknown setting "replica"; known: port, replicas');
  const badValue = await cli("settings", "set", NAME, "replicas=99");
  expect(badValue.code).toBe(1);
  expect(badValue.stderr).toContain("settings.replicas");
  expect((await cli("env", "frob", NAME)).code).toBe(2);
  expect((await cli("rollback", NAME, "latest")).code).toBe(2);
  expect(await body()).toBe("greeting=(unset) port=8080\n"); // nothing changed
}, 60_000);

test("a change whose release fails its health check exits 1 with why; the old release keeps serving", async () => {
  const before = (JSON.parse((await cli("releases", NAME, "--json")).stdout) as { releases: { number: number; current: boolean }[] }).releases.find((r) => r.current)!.number;
  const r = await cli("settings", "set", NAME, "healthcheck.status=418", "healthcheck.startPeriod=2");
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^kiln: .*health/im);
  expect(r.stdout).not.toContain("serving");
  expect(await body()).toBe("greeting=(unset) port=8080\n");
  const after = (JSON.parse((await cli("releases", NAME, "--json")).stdout) as { releases: { number: number; current: boolean }[] }).releases.find((r) => r.current)!.number;
  expect(after).toBe(before);
}, 60_000);

test("kiln rm --volumes deletes the app and its volume", async () => {
  const id = (JSON.parse((await cli("ls", "--json")).stdout) as { deployments: { id: string; name: string }[] }).deployments.find((d) => d.name === NAME)!.id;
  const volumes = async () => (await kiln.runtime.listVolumes({ "kiln.deployment": id })).map((v) => v.name);
  expect(await volumes()).toEqual([`kiln-${id}-data`]);
  const r = await cli("rm", NAME, "--yes", "--volumes");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("deleted with its volumes");
  expect(await volumes()).toEqual([]);
}, 60_000);
