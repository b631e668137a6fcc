/** The CLI's tenant-pool commands as their own process against a real Kiln: claim, tenants, release, pools. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { workloadYaml, writeWorkload, ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";
import { runCli } from "./run-cli.ts";

let kiln: TestKiln;
let env: Record<string, string>;

// The image the workloads run, assembled on first use: slow on a fresh machine.
beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  kiln = await startTestKiln();
  env = { KILN_URL: kiln.apiUrl, KILN_TOKEN: kiln.token };
  writeWorkload(kiln.config.pools.workloadsDir, "cli-echo", workloadYaml("cli-echo", { min: 0, max: 1 }));
  for (let i = 0; i < 100; i++) {
    const w = (await (await kiln.api("/workloads")).json()) as { workloads: { id: string }[] };
    if (w.workloads.some((x) => x.id === "cli-echo")) return;
    await Bun.sleep(100);
  }
  throw new Error("the workload was not loaded");
}, 60_000);

afterAll(async () => {
  await kiln?.api("/tenants/cli-t1/release", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }).catch(() => {});
  await kiln?.stop();
}, 60_000);

test("kiln workloads and kiln pools list the workload", async () => {
  const w = await runCli(["workloads", "--json"], env);
  expect(w.code).toBe(0);
  expect(JSON.parse(w.stdout).workloads.map((x: { id: string }) => x.id)).toContain("cli-echo");
  const p = await runCli(["pools"], env);
  expect(p.code).toBe(0);
  expect(p.stdout).toMatch(/cli-echo\s+0\s+0\s+0\s+0\.\.1/);
});

test("kiln claim prints the tenant's URL; kiln tenants --json lists the claim", async () => {
  const c = await runCli(["claim", "cli-echo", "cli-t1"], env);
  expect(c.stderr).toBe("");
  expect(c.code).toBe(0);
  expect(c.stdout).toContain(`cli-t1 claimed cli-echo (cold`);
  expect(c.stdout).toContain(`http://cli-t1.cli-echo.localhost:${kiln.publicPort}/`);
  const again = await runCli(["claim", "cli-echo", "cli-t1", "--json"], env);
  expect(JSON.parse(again.stdout).source).toBe("existing");
  const t = await runCli(["tenants", "--json"], env);
  expect(t.code).toBe(0);
  const tenants = JSON.parse(t.stdout).tenants as { tenantId: string; workload: string; status: string }[];
  expect(tenants).toContainEqual(expect.objectContaining({ tenantId: "cli-t1", workload: "cli-echo", status: "claimed" }));
}, 90_000);

test("a claim at max_size exits 1 with the reason", async () => {
  const r = await runCli(["claim", "cli-echo", "cli-t2"], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("max_size");
});

test("kiln release frees the tenant's container", async () => {
  const r = await runCli(["release", "cli-t1", "--workload", "cli-echo"], env);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("cli-t1: released");
  const t = await runCli(["tenants", "cli-t1", "--json"], env);
  const tenants = JSON.parse(t.stdout).tenants as { status: string }[];
  expect(tenants.every((x) => x.status === "released")).toBe(true);
}, 60_000);

test("claiming an unknown workload exits 1 and says so", async () => {
  const r = await runCli(["claim", "nope", "cli-t3"], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("nope");
});
