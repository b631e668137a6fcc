/**
 * The fuzz suite's long run: the same targets as test/fuzz/*.test.ts (tarball extraction, workload
 * YAML, API routes, API uploads) with more cases. Prints each target's seed, cases, failures, the
 * slowest case and memory; exits 1 if any case failed. The API targets start a real Kiln
 * (Docker, Caddy); --no-api skips them.
 *
 *   bun bench/fuzz.ts [--seed N] [--tar 20000] [--yaml 20000] [--routes 10000] [--uploads 500] [--no-api]
 *   replay one case: KILN_FUZZ_SEED=<seed> KILN_FUZZ_CASE=<n> bun bench/fuzz.ts --yaml <n+1> --tar 0 --no-api
 */
import { startTestKiln } from "../test/helpers/kiln.ts";
import { apiOperations, expectHealthy, runRouteFuzz, runUploadFuzz } from "../test/fuzz/api-target.ts";
import { fuzzSeed } from "../test/fuzz/prng.ts";
import type { FuzzReport } from "../test/fuzz/report.ts";
import { runTarFuzz } from "../test/fuzz/tar-target.ts";
import { runYamlFuzz } from "../test/fuzz/yaml-target.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const seed = process.argv.includes("--seed") ? arg("seed", 0) >>> 0 : fuzzSeed();
const counts = { tar: arg("tar", 20_000), yaml: arg("yaml", 20_000), routes: arg("routes", 10_000), uploads: arg("uploads", 500) };

const reports: FuzzReport[] = [];
const t0 = performance.now();
if (counts.tar > 0) reports.push(await runTarFuzz(seed, counts.tar));
if (counts.yaml > 0) reports.push(await runYamlFuzz(seed, counts.yaml));
if (!process.argv.includes("--no-api") && counts.routes + counts.uploads > 0) {
  const kiln = await startTestKiln();
  try {
    if (counts.routes > 0) reports.push(await runRouteFuzz(kiln, await apiOperations(kiln), seed, counts.routes));
    if (counts.uploads > 0) reports.push(await runUploadFuzz(kiln, seed, counts.uploads));
    await expectHealthy(kiln);
    console.log("GET /health: 200 after the fuzzing");
  } finally {
    await kiln.stop();
  }
}

console.log(`\n── fuzz summary (seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(1)} s) ──`);
for (const r of reports) console.log(r.summary());
const failures = reports.reduce((n, r) => n + r.failures.length, 0);
console.log(`${reports.reduce((n, r) => n + r.cases, 0)} cases, ${failures} failures`);
process.exit(failures > 0 ? 1 : 0);
