/**
 * Fuzz against a real in-process Kiln, with the valid token: random requests to every route of
 * the OpenAPI document, and mutated tarballs through the upload API (api-target.ts). No 5xx, every
 * 4xx has {error: {kind, message}}, and /health still answers 200 afterwards. Prints the seed
 * (replay: KILN_FUZZ_SEED=<seed> [KILN_FUZZ_CASE=<n>]).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type TestKiln, startTestKiln } from "../helpers/kiln.ts";
import { apiOperations, expectHealthy, runRouteFuzz, runUploadFuzz } from "./api-target.ts";
import { TEST_CASES, scaled } from "./counts.ts";
import { fuzzSeed } from "./prng.ts";

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
}, 120_000);

test("random requests to every route: no 5xx, 4xx with the error shape", async () => {
  const ops = await apiOperations(kiln);
  const paths = new Set(ops.map((o) => o.path));
  for (const known of ["/deployments", "/deployments/{id}", "/tenants/{tenantId}/claim", "/workloads"]) expect(paths).toContain(known);
  const report = await runRouteFuzz(kiln, ops, fuzzSeed(), scaled(TEST_CASES.routes));
  report.print();
  expect(report.failures).toEqual([]);
  await expectHealthy(kiln);
  expect(existsSync("/tmp/kiln-fuzz-pwned")).toBe(false); // no git argument or URL ran a command
  const left = (await (await kiln.api("/deployments")).json()) as { deployments: unknown[] };
  expect(left.deployments).toEqual([]);
}, 180_000);

test("mutated tarballs through the upload API: 4xx with a message or 202, never 5xx", async () => {
  const report = await runUploadFuzz(kiln, fuzzSeed(), scaled(TEST_CASES.uploads));
  report.print();
  expect(report.failures).toEqual([]);
  await expectHealthy(kiln);
  const left = (await (await kiln.api("/deployments")).json()) as { deployments: unknown[] };
  expect(left.deployments).toEqual([]);
}, 180_000);
