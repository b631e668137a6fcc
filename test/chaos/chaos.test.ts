/**
 * The chaos suite, bounded for CI: 50 rounds of kill -9 of Kiln at a random moment while builds,
 * claims, releases and syncs are in flight (some with S3 hanging), then a restart on the same data
 * dir; plus Caddy killed, the tenant resolver killed, and S3 refusing releases (403: rclone does not
 * retry it; bench/chaos.ts uses 503, which rclone retries for ~50 s a release).
 * After every round: no orphan containers, images, routes, mounts or directories; claimed tenants
 * answer at their URLs with the files last written; released tenants' files are in S3; no build
 * is left unfinished. It prints the seed (KILN_CHAOS_SEED=<seed> replays the choices), the faults
 * by kind and each invariant's violations; bench/chaos.ts runs longer.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";
import { chaosSeed, seededRng } from "./prng.ts";
import { formatReport, runChaos } from "./rounds.ts";
import { startWorld, type World } from "./world.ts";

const seed = chaosSeed(process.env.KILN_CHAOS_SEED);
const log = join(tmpdir(), `kiln-chaos-${seed}.log`);
let world: World | undefined;

beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
}, 120_000);

test("50 kill -9 rounds and Caddy, resolver and S3 faults leave no orphan, no lost file, no stuck build", async () => {
  console.log(`chaos: seed ${seed}; Kiln's log: ${log}`);
  world = await startWorld({ tenants: 4, apps: ["chaos-a", "chaos-b"], log });
  const report = await runChaos(world, seededRng(seed), { kills: 50, caddy: 2, resolver: 2, s3Errors: 2, s3ErrorStatus: 403, onRound: (l) => console.log(l) });
  console.log(formatReport(report));
  expect(report.rounds).toBe(56);
  expect(Object.values(report.faults).reduce((a, n) => a + n, 0)).toBe(56);
  expect(report.details).toEqual([]);
  expect(report.violations).toEqual(Object.fromEntries(Object.keys(report.violations).map((k) => [k, 0])) as typeof report.violations);
}, 600_000);
