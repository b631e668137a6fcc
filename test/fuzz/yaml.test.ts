/**
 * Fuzz: mutated workload files through parseWorkload (yaml-cases.ts, yaml-target.ts). Every case
 * returns a spec or WorkloadSpecErrors (never throws), no problem quotes a secret, alias bombs
 * are refused. Prints the seed (replay: KILN_FUZZ_SEED=<seed> [KILN_FUZZ_CASE=<n>]).
 */
import { expect, test } from "bun:test";
import { TEST_CASES, scaled } from "./counts.ts";
import { fuzzSeed } from "./prng.ts";
import { runYamlFuzz } from "./yaml-target.ts";

test("random workload YAML: only the loader's own errors", async () => {
  const report = await runYamlFuzz(fuzzSeed(), scaled(TEST_CASES.yaml));
  report.print();
  expect(report.failures).toEqual([]);
  expect(report.outcomes.get("ok")).toBeGreaterThan(0); // some mutations keep the file valid
}, 120_000);
