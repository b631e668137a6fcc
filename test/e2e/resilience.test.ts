/**
 * Kiln under stress and after failures: log streams with many writers, Caddy dying under a
 * running Kiln, and Kiln itself killed with SIGKILL and started again on the same data dir.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { LogLine } from "../../src/core/logs.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { kilnProcess } from "../helpers/kiln-process.ts";

const HELLO = join(import.meta.dir, "../../examples/hello-node");

describe("with a running Kiln", () => {
  let kiln: TestKiln;
  let id: string;

  beforeAll(async () => {
    kiln = await startTestKiln();
    const res = await kiln.api("/deployments/upload?name=steady", { method: "POST", body: await tarOf(HELLO) });
    id = ((await res.json()) as any).id;
    expect((await kiln.waitFor(id, ["running", "failed"])).status).toBe("running");
  });
  afterAll(async () => {
    await kiln?.stop();
  });

  test("logs are replayed then followed with no gap or duplicate while several writers publish", async () => {
    const WRITERS = 4;
    const PER_WRITER = 500;
    const start = await kiln.bus.lastSeq(id);
    const subscribers: Promise<LogLine[]>[] = [];
    const done = (ls: LogLine[]) => ls.filter((l) => l.text.startsWith("writer-done")).length === WRITERS;
    subscribers.push(kiln.logs(id, { since: 1, until: done, timeoutMs: 30_000 }));
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < PER_WRITER; i++) {
        kiln.bus.publish(id, w % 2 ? "system" : "build", `writer ${w} line ${i}`);
        if (i % 25 === 0) await Bun.sleep(1);
      }
      kiln.bus.publish(id, "system", `writer-done ${w}`);
    });
    // the app writes runtime lines at the same time
    const traffic = (async () => {
      for (let i = 0; i < 30; i++) await (await kiln.viaSubdomain("steady", `/traffic-${i}`)).text();
    })();
    await Bun.sleep(5);
    subscribers.push(kiln.logs(id, { since: start + 100, until: done, timeoutMs: 30_000 }));
    await Bun.sleep(10);
    subscribers.push(kiln.logs(id, { since: start + 1, until: done, timeoutMs: 30_000 }));
    await Promise.all([...writers, traffic]);
    const results = await Promise.all(subscribers);
    const since = [1, start + 100, start + 1];
    results.forEach((lines, i) => {
      const seqs = lines.map((l) => l.seq);
      expect(seqs[0]).toBe(since[i]);
      seqs.forEach((s, j) => expect(s).toBe(since[i]! + j)); // dense: no gap, no duplicate
      for (let w = 0; w < WRITERS; w++) {
        const mine = lines.filter((l) => l.text.startsWith(`writer ${w} `)).map((l) => Number(l.text.split(" ")[3]));
        expect(mine).toEqual([...mine].sort((a, b) => a - b)); // each writer's lines in order
      }
    });
    expect(results[0]!.filter((l) => l.text.startsWith("writer ")).length).toBe(WRITERS * PER_WRITER);
  });

  test("Caddy killed while Kiln runs: it is restarted and the routes come back", async () => {
    expect((await kiln.viaSubdomain("steady")).status).toBe(200);
    const pids = Bun.spawnSync(["pgrep", "-f", join(kiln.config.dataDir, "caddy")]).stdout.toString().trim().split("\n").filter(Boolean);
    expect(pids.length).toBe(1);
    process.kill(Number(pids[0]), "SIGKILL");
    let status = 0;
    for (let i = 0; i < 150 && status !== 200; i++) {
      await Bun.sleep(100);
      status = await kiln.viaSubdomain("steady").then((r) => (r.text(), r.status), () => 0);
    }
    expect(status).toBe(200);
    expect((await kiln.viaPath(id)).status).toBe(200);
  });
});

describe("Kiln killed with SIGKILL and started again", () => {
  const k = kilnProcess("kiln-kill");
  const api = (path: string, init: RequestInit = {}) => k.api(path, init);
  const viaCaddy = (name: string) => k.viaCaddy(`${name}.localhost`);
  const serve = () => k.serve();
  async function status(name: string): Promise<any> {
    return (await api(`/deployments/${name}`)).json();
  }

  afterAll(async () => {
    const proc = await serve();
    for (const name of ["survivor", "interrupted"]) await api(`/deployments/${name}`, { method: "DELETE" });
    proc.kill("SIGTERM");
    await proc.exited;
    // a clean stop with no pool members leaves no mount in the data dir
    expect((await Bun.file("/proc/self/mountinfo").text()).includes(k.dataDir)).toBe(false);
    k.cleanup();
  });

  test("running apps are adopted, interrupted builds fail cleanly, nothing is orphaned", async () => {
    let proc = await serve();
    const tar = await tarOf(HELLO);
    const up = await api("/deployments/upload?name=survivor", { method: "POST", body: tar });
    const survivor = (await up.json()) as any;
    // up to 3 minutes: on a fresh machine the base image is assembled and npm's cache is cold
    for (let i = 0; i < 1800 && (await status("survivor")).status !== "running"; i++) await Bun.sleep(100);
    expect((await status("survivor")).status).toBe("running");

    // a second build in flight when Kiln dies
    await api("/deployments/upload?name=interrupted", { method: "POST", body: tar });
    for (let i = 0; i < 1500 && !["building", "deploying"].includes((await status("interrupted")).status); i++) await Bun.sleep(20);
    proc.kill("SIGKILL");
    await proc.exited;

    expect((await viaCaddy("survivor")).status).toBe(200); // the app keeps serving while Kiln is down

    proc = await serve();
    try {
      const s = await status("survivor");
      expect(s.status).toBe("running");
      expect((await viaCaddy("survivor")).status).toBe(200);
      const i = await status("interrupted");
      expect(["failed", "running"]).toContain(i.status);
      const builds = (await (await api(`/deployments/interrupted/builds`)).json()) as any;
      expect(builds.builds.every((b: any) => b.status !== "running" && b.status !== "queued")).toBe(true);
      // exactly one container per running deployment, none for the interrupted one unless it finished
      const list = await fetch(`http://docker/v1.41/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`kiln.deployment=${survivor.id}`] }))}`, { unix: "/var/run/docker.sock" } as RequestInit);
      expect(((await list.json()) as any[]).length).toBe(1);
      const orphans = await fetch(`http://docker/v1.41/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`kiln.deployment=${i.id}`] }))}`, { unix: "/var/run/docker.sock" } as RequestInit);
      expect(((await orphans.json()) as any[]).length).toBe(i.status === "running" ? 1 : 0);
      // logs survived the crash
      expect(s.currentBuild.status).toBe("succeeded");
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });
});
