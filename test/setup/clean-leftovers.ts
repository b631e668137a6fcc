/**
 * Runs once before the test suite (bunfig.toml preload): removes what an earlier, interrupted test
 * run may have left on this machine — containers on the test network and slot mounts under the
 * temp dir — so one bad run can't slow or confuse the next.
 */
const SOCKET = "/var/run/docker.sock";
const engine = (path: string, init: RequestInit = {}) => fetch(`http://docker/v1.41${path}`, { ...init, unix: SOCKET } as RequestInit);

try {
  const filters = encodeURIComponent(JSON.stringify({ network: ["kiln-test"] }));
  const leftovers = (await (await engine(`/containers/json?all=1&filters=${filters}`)).json()) as { Id: string }[];
  for (const c of leftovers) await (await engine(`/containers/${c.Id}?force=1&v=1`, { method: "DELETE" })).text();
  if (leftovers.length) console.error(`test setup: removed ${leftovers.length} container(s) left by an earlier test run`);
} catch {
  // no engine: the tests that need one say so themselves
}

const mounts = (await Bun.file("/proc/self/mountinfo").text())
  .split("\n")
  .map((l) => l.split(" ")[4] ?? "")
  .filter((p) => /^\/tmp\/kiln-(test|kill|pool-kill|bad)-/.test(p))
  .sort()
  .reverse();
for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
if (mounts.length) console.error(`test setup: unmounted ${mounts.length} slot mount(s) left by an earlier test run`);
export {};
