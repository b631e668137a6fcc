/**
 * `kiln logs` against a real Kiln: without -f it prints what is kept and exits at the server's
 * end-of-replay marker (the stream stays live on the server; no quiet-time guess); with -f it
 * follows the live tail.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { failedDeployment, startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { runCli } from "./run-cli.ts";

let kiln: TestKiln;
let id: string;
let env: Record<string, string>;
const tmp = mkdtempSync(join(tmpdir(), "kiln-cli-logs-"));

beforeAll(async () => {
  kiln = await startTestKiln();
  env = { KILN_URL: kiln.apiUrl, KILN_TOKEN: kiln.token };
  id = await failedDeployment(kiln, "cli-logs");
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

test("kiln logs without -f prints every kept line once and exits at the end-of-replay marker", async () => {
  for (let i = 1; i <= 20_000; i++) kiln.bus.publish(id, "runtime", `cli line ${i}`);
  const last = await kiln.bus.lastSeq(id);
  const { code, stdout, stderr } = await runCli(["logs", "cli-logs", "--json"], env);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const seqs = stdout.trim().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq);
  expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
}, 120_000);

test("kiln logs --since N starts at N", async () => {
  const last = await kiln.bus.lastSeq(id);
  const { code, stdout } = await runCli(["logs", "cli-logs", "--since", String(last - 1)], env);
  expect(code).toBe(0);
  expect(stdout.trim().split("\n")).toEqual([`runtime\tcli line 19999`, `runtime\tcli line 20000`]);
}, 60_000);

test("kiln logs -f follows the live tail", async () => {
  const proc = Bun.spawn(["bun", "bin/kiln", "logs", "cli-logs", "-f", "--since", String((await kiln.bus.lastSeq(id)) + 1)], {
    cwd: join(import.meta.dir, "../.."),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const pump = (async () => {
    for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk);
  })();
  try {
    // Publish until the follower prints a line (it may connect after the first publishes).
    for (let i = 0; !out.includes("followed line"); i++) {
      kiln.bus.publish(id, "runtime", `followed line ${i}`);
      await Bun.sleep(100);
    }
    expect(out).toContain("runtime\tfollowed line ");
  } finally {
    proc.kill();
    await proc.exited;
    await pump;
  }
}, 60_000);
