/**
 * The tenant resolver process: started by Kiln, answering from the store as it changes, adopted by
 * the next Kiln, started again on its port when it dies, stopped with Kiln, and gone by itself when
 * its data dir is.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import { queryDns } from "../../src/adapters/dns/client.ts";
import { RCODE, RTYPE } from "../../src/formats/dns-wire.ts";
import { TenantResolverProcess } from "../../src/routing/resolver-process.ts";
import { until } from "../helpers/wait.ts";

const dataDir = mkdtempSync(join(tmpdir(), "kiln-resolver-"));
const dbPath = join(dataDir, "kiln.db");
const store = SqliteStore.open(dbPath);
const moved: string[] = [];
const logs: string[] = [];
/** The resolver's whole environment (Kiln passes config.childEnv). */
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const make = () =>
  new TenantResolverProcess({ dataDir, dbPath, publicHost: "kiln.test", port: 0, env, onMoved: (a) => void moved.push(a), log: (l) => void logs.push(l), checkMs: 100 });

/** A Kiln of its own (a process) that starts the resolver; it prints the address and then waits to be killed. */
async function otherKiln(): Promise<{ proc: Bun.Subprocess<"ignore", "pipe", "inherit">; address: string }> {
  const script = `
    const { TenantResolverProcess } = await import(${JSON.stringify(join(import.meta.dir, "../../src/routing/resolver-process.ts"))});
    const r = new TenantResolverProcess({ dataDir: ${JSON.stringify(dataDir)}, dbPath: ${JSON.stringify(dbPath)}, publicHost: "kiln.test", port: 0, env: ${JSON.stringify(env)}, onMoved: () => {}, log: () => {} });
    console.log(await r.start());
    setInterval(() => {}, 1 << 30);`;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the other Kiln exited before it started the resolver");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc, address: text.trim() };
}
/** Running (a zombie waiting to be reaped counts as gone). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return false;
  }
};
const statePid = async () => JSON.parse(await Bun.file(join(dataDir, "tenant-resolver.json")).text()).pid as number;

afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function claimed(tenant: string, port: number) {
  await store.pools.insertMember({ id: `m-${tenant}`, workloadId: "echo", specHash: "h", node: "test-node", containerId: `c-${tenant}`, status: "ready", tenantId: null, endpoint: `127.0.0.1:${port}`, createdAt: 1, readyAt: 1, claimedAt: null, lastActiveAt: null });
  await store.pools.takeReady("echo", "h", tenant, 2, "test-node");
  await store.pools.putTenant({ tenantId: tenant, workloadId: "echo", memberId: `m-${tenant}`, status: "claimed", lastSync: null, claimedAt: 2, releasedAt: null, updatedAt: 2 });
}

test("the resolver answers from the store as claims come and go, survives its Kiln, and is adopted", async () => {
  const first = await otherKiln();
  const address = first.address;
  const pid = await statePid();
  expect((await queryDns(address, "a.echo.kiln.test", RTYPE.SRV)).rcode).toBe(RCODE.nxDomain);
  await claimed("a", 41001);
  expect((await queryDns(address, "a.echo.kiln.test", RTYPE.SRV)).srv).toEqual([{ port: 41001, target: "127-0-0-1.ip.kiln" }]);
  expect((await queryDns(address, "127-0-0-1.ip.kiln", RTYPE.A)).a).toEqual(["127.0.0.1"]);

  // A Kiln that dies without stopping leaves it running; the next Kiln adopts it.
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  expect(alive(pid)).toBe(true);
  const second = make();
  expect(await second.start()).toBe(address);
  expect(await statePid()).toBe(pid);
  expect(logs.some((l) => l.includes(`adopted pid ${pid}`))).toBe(true);

  // Killed: started again on the same port, so Caddy's config stays right.
  process.kill(pid, "SIGKILL");
  await until("a new resolver", async () => (await statePid()) !== pid && (await queryDns(address, "a.echo.kiln.test", RTYPE.SRV).catch(() => null))?.srv.length === 1);
  expect(second.address).toBe(address);
  expect(moved).toEqual([]);

  const newPid = await statePid();
  await second.stop();
  await until("the resolver to exit", async () => !alive(newPid));
  expect(existsSync(join(dataDir, "tenant-resolver.json"))).toBe(false);
}, 60_000);

test("a resolver whose data dir is removed exits by itself", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-resolver-gone-"));
  const db = join(dir, "kiln.db");
  (await SqliteStore.open(db)).close();
  const r = new TenantResolverProcess({ dataDir: dir, dbPath: db, publicHost: "kiln.test", port: 0, env, onMoved: () => {}, log: () => {}, checkMs: 60_000 });
  await r.start();
  const pid = JSON.parse(await Bun.file(join(dir, "tenant-resolver.json")).text()).pid as number;
  rmSync(dir, { recursive: true, force: true });
  await until("the orphaned resolver to exit", async () => !alive(pid), 15_000);
  await r.stop();
}, 30_000);
