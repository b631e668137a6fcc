/**
 * The chaos suite, longer than CI's bounded form (test/chaos/chaos.test.ts): by default 100 rounds
 * of kill -9 of Kiln at random moments during builds, claims, releases and syncs, plus Caddy and the
 * tenant resolver killed and S3 failing during releases; invariants checked after every round.
 *
 *   bun bench/chaos.ts [kills=100] [others=10]      KILN_CHAOS_SEED=<seed> replays a run
 *
 * Prints each round, then the seed, the faults injected by kind and each invariant's violations;
 * exits 1 when any invariant was violated. Kiln's own log goes to a temp file, named at the start.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chaosSeed, seededRng } from "../test/chaos/prng.ts";
import { formatReport, runChaos } from "../test/chaos/rounds.ts";
import { startWorld } from "../test/chaos/world.ts";
import { ensureWorkloadImage } from "../test/helpers/workloads.ts";

const kills = Number(process.argv[2] ?? 100);
const others = Number(process.argv[3] ?? 10);
const seed = chaosSeed(process.env.KILN_CHAOS_SEED);
const log = join(tmpdir(), `kiln-chaos-${seed}.log`);
console.log(`chaos: seed ${seed}; Kiln's log: ${log}`);

await ensureWorkloadImage();
const world = await startWorld({ tenants: 4, apps: ["chaos-a", "chaos-b"], log });
const t0 = Date.now();
let report;
try {
  report = await runChaos(world, seededRng(seed), { kills, caddy: others, resolver: others, s3Errors: others, onRound: (l) => console.log(l) });
} finally {
  await world.stop();
}
console.log(formatReport(report));
const rounds = report.rounds;
console.log(`${rounds} rounds in ${((Date.now() - t0) / 1000).toFixed(0)} s (${((Date.now() - t0) / rounds / 1000).toFixed(1)} s a round)`);
process.exit(Object.values(report.violations).some((n) => n > 0) ? 1 : 0);
