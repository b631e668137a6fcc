/** A workload can run the image a Kiln deployment built: `image: deployment:<name>`. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { writeWorkload } from "../helpers/workloads.ts";

let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln();
}, 60_000);
afterAll(async () => {
  await kiln?.stop();
}, 60_000);

test("a pool of the hello-node deployment's image serves tenants", async () => {
  const res = await kiln.api("/deployments/upload?name=hello", { method: "POST", body: await tarOf(join(import.meta.dir, "../../examples/hello-node"), true) });
  expect(res.status).toBe(202);
  expect((await kiln.waitFor("hello", ["running", "failed"])).status).toBe("running");

  writeWorkload(kiln.config.pools.workloadsDir, "hello-pool", ["id: hello-pool", "image: deployment:hello", "ports: [3000]", "pool:", "  min_size: 1", "  max_size: 2"].join("\n"));
  let claim: any = null;
  for (let i = 0; i < 300 && !claim; i++) {
    const r = await kiln.api("/tenants/t1/claim", { method: "POST", body: JSON.stringify({ workload: "hello-pool" }), headers: { "content-type": "application/json" } });
    if (r.status === 200) claim = await r.json();
    else await r.text();
    if (!claim) await Bun.sleep(100);
  }
  expect(claim).not.toBeNull();
  const image = (await kiln.service.get("hello")).currentBuildId;
  const info = (await (await fetch(`http://docker/v1.41/containers/${claim.containerId}/json`, { unix: "/var/run/docker.sock" } as RequestInit)).json()) as any;
  expect(info.Config.Image).toBe(`kiln/app-hello:${image}`);
  let text = "";
  for (let i = 0; i < 50 && !text.includes("hello from kiln"); i++) {
    text = await fetch(`http://127.0.0.1:${claim.endpoint.port}/`).then((r) => r.text(), () => "");
    if (!text.includes("hello from kiln")) await Bun.sleep(100);
  }
  expect(text).toContain("hello from kiln");
  const viaCaddy = await fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: "t1.hello-pool.localhost" } });
  expect(await viaCaddy.text()).toContain("hello from kiln");
  expect((await kiln.api("/tenants/t1/release", { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(200);
}, 120_000);

test("a workload naming a deployment with no successful build can't warm, and says why", async () => {
  writeWorkload(kiln.config.pools.workloadsDir, "ghost-pool", ["id: ghost-pool", "image: deployment:nope", "ports: [3000]", "pool:", "  min_size: 0", "  max_size: 1"].join("\n"));
  let r: Response | null = null;
  for (let i = 0; i < 100; i++) {
    r = await kiln.api("/tenants/t2/claim", { method: "POST", body: JSON.stringify({ workload: "ghost-pool" }), headers: { "content-type": "application/json" } });
    if (r.status !== 404) break;
    await r.text();
    await Bun.sleep(100);
  }
  expect(r!.status).toBe(400);
  expect(((await r!.json()) as any).error.message).toContain("deployment nope has no successful build");
});
