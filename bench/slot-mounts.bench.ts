/**
 * Slot mount benchmark (root only): SlotMounts.attach and detach of a tenant's state and secrets,
 * no container, beside a baseline from the same run: one bind mount and its unmount done by
 * hand with mount(8)/umount(8). Prints medians and ratios (SlotMounts / by hand).
 *
 *   bun bench/slot-mounts.bench.ts [--rounds 20]
 */
import { mkdirSync, rmSync } from "node:fs";
import { run } from "../src/adapters/exec/run.ts";
import { SlotMounts } from "../src/adapters/mounts/slot-mounts.ts";
import { ensureTenantDirs, tenantDirs } from "../src/adapters/fs/tenant-dirs.ts";

const BASE = `/tmp/kiln-bench-slot-mounts-${process.pid}`;
const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1] || 20) || 20;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const ms = (t: number) => `${t.toFixed(2)} ms`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function must(argv: string[]): Promise<void> {
  const res = await run({ argv });
  if (res.code !== 0) throw new Error(`${argv.join(" ")}: ${res.tail.join("\n")}`);
}

const slots = new SlotMounts({ slotsRoot: `${BASE}/slots`, stagingRoot: `${BASE}/staging` });
try {
  mkdirSync(BASE, { recursive: true });
  await slots.prepare();
  const tenant = tenantDirs(`${BASE}/data`, "bench", "t");
  await ensureTenantDirs(tenant, { uid: 1000, gid: 1000 });

  const attach: number[] = [];
  const detach: number[] = [];
  const handMount: number[] = [];
  const handUnmount: number[] = [];
  const target = `${BASE}/by-hand`;
  mkdirSync(target, { recursive: true });
  for (let i = 0; i < rounds; i++) {
    await slots.slotFor(`m${i}`);
    attach.push(await timed(() => slots.attach(`m${i}`, { state: tenant.state, secrets: tenant.secrets })));
    detach.push(await timed(() => slots.detach(`m${i}`)));
    handMount.push(await timed(() => must(["mount", "--bind", "--", tenant.state, target])));
    handUnmount.push(await timed(() => must(["umount", "--", target])));
  }
  console.log(`${rounds} rounds, no container`);
  console.log(`attach (state + staged read-only secrets): median ${ms(median(attach))} (min ${ms(Math.min(...attach))}, max ${ms(Math.max(...attach))})`);
  console.log(`detach (3 unmounts + slot dirs removed):  median ${ms(median(detach))} (min ${ms(Math.min(...detach))}, max ${ms(Math.max(...detach))})`);
  console.log(`by hand: mount --bind ${ms(median(handMount))}, umount ${ms(median(handUnmount))}`);
  console.log(`ratios: attach / mount(8) ${(median(attach) / median(handMount)).toFixed(2)}, detach / umount(8) ${(median(detach) / median(handUnmount)).toFixed(2)}`);
} finally {
  for (const id of await slots.attached().catch(() => [])) await slots.detach(id).catch(() => undefined);
  await run({ argv: ["umount", "--lazy", "--", `${BASE}/by-hand`] }).catch(() => undefined);
  await run({ argv: ["umount", "--lazy", "--", `${BASE}/staging`] }).catch(() => undefined);
  await run({ argv: ["umount", "--lazy", "--", `${BASE}/slots`] }).catch(() => undefined);
  rmSync(BASE, { recursive: true, force: true });
}
