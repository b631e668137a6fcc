/**
 * A restart of the Docker engine is routine: with 2 apps running, a pool warm at min_size 2 and
 * 2 tenants claimed (each with a secret and a state file), dockerd is stopped with SIGTERM and
 * started again — then, with no action by anyone, every app answers through Caddy at its URL, every
 * tenant answers at its URL with its own state and secret, and the pool is back at min_size with
 * members the engine really runs. The deadline (120 s) is generous on purpose: the time each took
 * is printed, not asserted (bench/recovery.bench.ts measures it at scale).
 *
 * This restarts the machine's real dockerd. Without live-restore (off here: GET /info
 * LiveRestoreEnabled) that stops EVERY container on the machine, not only this test's: fine in CI,
 * which runs test files one at a time in one `bun test` process; do not run it beside other
 * integration tests. afterAll leaves an engine answering whatever happened.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ensureDockerd, liveRestoreEnabled, restartDockerd } from "../helpers/dockerd.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { engineEventMarks, phaseLines, recoveryDiagnosis, tenantLogTail, watchRecovery } from "../helpers/recovery.ts";
import { liveScene, type Scene } from "../helpers/recovery-scene.ts";
import { ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";

const DEADLINE_MS = 120_000;
let kiln: TestKiln;
let scene: Scene;

beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  kiln = await startTestKiln();
  scene = await liveScene(kiln, { apps: 2, workloads: [{ id: "keep", min: 2, max: 4, claims: 2 }] });
}, 600_000);

afterAll(async () => {
  await ensureDockerd();
  for (const t of scene?.tenants ?? []) {
    await kiln.api(`/tenants/${t.tenant}/release`, { method: "POST", body: JSON.stringify({ workload: t.workload }), headers: { "content-type": "application/json" } }).then((r) => r.text(), () => "");
  }
  await kiln?.stop();
}, 180_000);

test("after dockerd restarts, every app, every claimed tenant and the pool answer again without a manual action", async () => {
  const liveRestore = await liveRestoreEnabled();
  const kilnSaw = engineEventMarks(kiln);
  const r = await restartDockerd();
  const seen = await watchRecovery(scene.probes, { deadlineMs: DEADLINE_MS });
  kilnSaw.off();
  console.log(
    [
      `dockerd restart (live-restore ${liveRestore ? "on" : "off"}):`,
      `  SIGTERM → dockerd exited      ${((r.exitedAt - r.stoppedAt) / 1000).toFixed(2)} s`,
      `  exited → answering /_ping     ${((r.answeringAt - r.exitedAt) / 1000).toFixed(2)} s`,
      "  from the engine answering again:",
      ...phaseLines({ ...kilnSaw.marks, ...seen }, r.answeringAt),
    ].join("\n"),
  );
  const missing = Object.entries(seen).filter(([, t]) => t === null).map(([label]) => label);
  if (missing.length) {
    console.log(`not recovered by the deadline: ${missing.join(", ")}; apps, pool members and tenants now:\n${await recoveryDiagnosis(kiln.api)}`);
    for (const t of scene.tenants) console.log(`  tenant ${t.tenant}.${t.workload}'s log:\n${await tenantLogTail(kiln.apiUrl, kiln.token, t.workload, t.tenant)}`);
  }
  expect(missing).toEqual([]);

  // Kiln's own view agrees: the apps are running again, the tenants still hold their claims.
  for (const name of scene.apps) expect((await kiln.waitFor(name, ["running"], 30_000)).status).toBe("running");
  for (const t of scene.tenants) {
    const view = (await (await kiln.api(`/tenants/${t.tenant}/status`)).json()) as { tenants: { workload: string; status: string }[] };
    expect(view.tenants.find((v) => v.workload === t.workload)?.status).toBe("claimed");
  }
}, DEADLINE_MS + 240_000);
