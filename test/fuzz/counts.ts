/**
 * How many cases each fuzz target runs: bounded for `bun test` in CI (the whole suite in about
 * two minutes on 2 cores), larger from bench/fuzz.ts. KILN_FUZZ_SCALE multiplies the test counts.
 */
export const TEST_CASES = {
  tarball: 2000,
  yaml: 2000,
  routes: 2000,
  uploads: 100,
};

export function scaled(n: number): number {
  const scale = Number(process.env.KILN_FUZZ_SCALE ?? "1");
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
