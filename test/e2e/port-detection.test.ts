/**
 * Apps that ignore $PORT still get routed: Kiln finds the port the app really listens on (its
 * container's listening sockets, seen from the host), says so, routes there, and keeps it for later
 * swaps and restarts. An app listening on loopback only fails fast, saying how to fix it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";

const APPS = join(import.meta.dir, "../fixtures/apps");
let kiln: TestKiln;

const upload = async (name: string, dir: string) => {
  const res = await kiln.api(`/deployments/upload?name=${name}`, { method: "POST", body: await tarOf(join(APPS, dir)) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
};

beforeAll(async () => {
  kiln = await startTestKiln();
});

afterAll(async () => {
  await kiln?.rollout.settled();
  await kiln?.stop();
}, 90_000);

test("an app that ignores $PORT is routed to the port it listens on, and the log says so", async () => {
  const id = await upload("hardcoded", "ignores-port");
  const d = await kiln.waitFor(id, ["running", "failed"]);
  expect([d.status, d.failureReason]).toEqual(["running", null]);
  expect(await (await kiln.viaSubdomain("hardcoded")).text()).toBe("hard-coded 5055, greeting=");
  const lines = await kiln.logs(id, { until: (ls) => ls.some((l) => l.text.includes("routing to 5055")), timeoutMs: 10_000 });
  expect(lines.find((l) => l.text.includes("routing to 5055"))!.text).toBe("the app listens on 5055, not $PORT 3000; routing to 5055");
  const releases = ((await (await kiln.api(`/deployments/${id}/releases`)).json()) as any).releases;
  expect(releases[0].settings.port).toBeNull(); // the user's setting is untouched…
  expect((await kiln.service.currentRelease(await kiln.service.get(id)))!.buildPort).toBe(5055); // …the release knows

  // A swap (env change) and a restart keep routing there.
  const env = await kiln.api(`/deployments/${id}/env?wait=true`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ set: { GREETING: "hi" } }) });
  expect(env.status).toBe(200);
  expect(await (await kiln.viaSubdomain("hardcoded")).text()).toBe("hard-coded 5055, greeting=hi");
  const before = await kiln.service.get(id);
  await kiln.runtime.removeContainer(before.instances[0]!.containerId); // docker rm -f: made again
  const deadline = Date.now() + 60_000;
  let answer = "";
  while (Date.now() < deadline) {
    const now = await kiln.service.get(id);
    if (now.instances[0]?.containerId !== before.instances[0]!.containerId) {
      const res = await kiln.viaSubdomain("hardcoded").catch(() => null);
      answer = res ? await res.text() : "";
      if (answer === "hard-coded 5055, greeting=hi") break;
    }
    await Bun.sleep(250);
  }
  expect(answer).toBe("hard-coded 5055, greeting=hi");
}, 180_000);

test("an app listening on loopback only fails fast, saying to listen on 0.0.0.0", async () => {
  const id = await upload("loopback", "loopback-only");
  const d = await kiln.waitFor(id, ["running", "failed"]);
  expect(d.status).toBe("failed");
  expect(d.failureReason).toContain("listens on 127.0.0.1:3000 only");
  expect(d.failureReason).toContain("0.0.0.0");
  // said by the socket table, not by the readiness timeout ("… within 30 s")
  expect(d.failureReason).not.toContain("within");
}, 120_000);

test("an explicit port setting wins: no detection", async () => {
  const id = await upload("explicit", "ignores-port");
  expect((await kiln.waitFor(id, ["running", "failed"])).status).toBe("running");
  const res = await kiln.api(`/deployments/${id}/settings?wait=true`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ port: 5055 }) });
  expect(res.status).toBe(200);
  expect(await (await kiln.viaSubdomain("explicit")).text()).toBe("hard-coded 5055, greeting=");
  const lines = await kiln.logs(id, { timeoutMs: 1500 });
  expect(lines.filter((l) => l.text.includes("routing to 5055"))).toHaveLength(1); // the first deploy's only
}, 180_000);
