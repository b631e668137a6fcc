/**
 * Runs once before the test suite (bunfig.toml preload): removes what an earlier, interrupted test
 * run left on this machine — containers on the test network, slot mounts under the temp dir,
 * tenant resolver and Caddy processes of test data dirs, and the old shared test network once it is unused —
 * so one bad run can't slow or confuse the next. Only what is older than any test run could be
 * (30 min) is touched, so a run going on in parallel keeps its own.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { TEST_NETWORK } from "../helpers/network.ts";

const STALE_MS = 30 * 60_000;
const SOCKET = "/var/run/docker.sock";
const OLD_TEST_NETWORK = "kiln-test";
const engine = (path: string, init: RequestInit = {}) => fetch(`http://docker/v1.41${path}`, { ...init, unix: SOCKET } as RequestInit);

try {
  const filters = encodeURIComponent(JSON.stringify({ network: [TEST_NETWORK, OLD_TEST_NETWORK] }));
  const all = (await (await engine(`/containers/json?all=1&filters=${filters}`)).json()) as { Id: string; Created: number }[];
  const stale = all.filter((c) => Date.now() - c.Created * 1000 > STALE_MS);
  for (const c of stale) await (await engine(`/containers/${c.Id}?force=1&v=1`, { method: "DELETE" })).text();
  if (stale.length) console.error(`test setup: removed ${stale.length} container(s) left by an earlier test run`);
  // The network older Kilns' tests shared, with inter-container traffic on: gone once nothing is attached
  // (the engine refuses to remove a network with endpoints, so a run still using it keeps it).
  const old = (await (await engine(`/networks/${OLD_TEST_NETWORK}`)).json()) as { Id?: string; Containers?: Record<string, unknown> | null };
  if (old.Id && Object.keys(old.Containers ?? {}).length === 0) {
    const res = await engine(`/networks/${old.Id}`, { method: "DELETE" });
    await res.text();
    if (res.ok) console.error(`test setup: removed Docker network ${OLD_TEST_NETWORK} (made by an older Kiln, inter-container traffic on)`);
  }
} catch {
  // no engine: the tests that need one say so themselves
}

const staleDir = (mountPoint: string) => {
  const dir = /^\/tmp\/kiln-[a-z-]+-[A-Za-z0-9]+/.exec(mountPoint)?.[0];
  try {
    return !!dir && Date.now() - statSync(dir).ctimeMs > STALE_MS;
  } catch {
    return true; // its data dir is gone: nothing can be using it
  }
};
const mounts = (await Bun.file("/proc/self/mountinfo").text())
  .split("\n")
  .map((l) => l.split(" ")[4] ?? "")
  .filter((p) => /^\/tmp\/kiln-(test|kill|pool-kill|bad)-/.test(p) && staleDir(p))
  .sort()
  .reverse();
for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
if (mounts.length) console.error(`test setup: unmounted ${mounts.length} slot mount(s) left by an earlier test run`);

// Tenant resolvers exit by themselves once their data dir is removed; one whose test never cleaned up
// would linger. So does a Caddy a test's Kiln started (it outlives a Kiln killed with SIGKILL, by design).
let resolvers = 0;
for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const db = argv[argv.indexOf("--db") + 1] ?? "";
    const caddyConfig = argv[0]?.endsWith("caddy") && argv[1] === "run" ? (argv[argv.indexOf("--config") + 1] ?? "") : "";
    if (!(argv.includes("tenant-resolver") && db.startsWith("/tmp/kiln-")) && !caddyConfig.startsWith("/tmp/kiln-")) continue;
    if (Date.now() - statSync(`/proc/${pid}`).ctimeMs < STALE_MS) continue;
    process.kill(Number(pid), "SIGTERM");
    resolvers++;
  } catch {
    // gone meanwhile, or not ours to read
  }
}
if (resolvers) console.error(`test setup: stopped ${resolvers} tenant resolver or Caddy process(es) left by an earlier test run`);

export {};
