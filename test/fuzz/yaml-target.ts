/**
 * The workload YAML fuzz target: each case goes through parseWorkload (pools/workloads/load.ts,
 * text → WorkloadSpec or its problems). A case passes when it returns (never throws), every
 * problem is a WorkloadSpecError with a message, no problem carries a secret's value, and it
 * ends within the hang guard.
 */
import { parseWorkload } from "../../src/pools/workloads/load.ts";
import { WorkloadSpecError } from "../../src/pools/workloads/errors.ts";
import { caseRng } from "./prng.ts";
import { FuzzReport, onlyCase } from "./report.ts";
import { HANG_MS } from "./tar-target.ts";
import { yamlCase } from "./yaml-cases.ts";

export async function runYamlFuzz(seed: number, cases: number): Promise<FuzzReport> {
  const report = new FuzzReport("workload YAML", seed, cases);
  const only = onlyCase();
  for (let i = 0; i < cases; i++) {
    if (only !== undefined && i !== only) continue;
    const c = yamlCase(caseRng(seed, i));
    await report.run(i, c.label, async () => {
      const t0 = performance.now();
      let r: ReturnType<typeof parseWorkload>;
      try {
        r = parseWorkload(c.text, "workloads/fuzz.yaml", c.env);
      } catch (err) {
        throw new Error(`parseWorkload threw ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
      const ms = performance.now() - t0;
      if (ms > HANG_MS) throw new Error(`parseWorkload took ${Math.round(ms)} ms`);
      if (r.ok) return "ok";
      if (r.errors.length === 0) throw new Error("not ok, but no problem given");
      for (const e of r.errors) {
        if (!(e instanceof WorkloadSpecError)) throw new Error(`a problem that is not a WorkloadSpecError: ${String(e)}`);
        if (e.problem.trim() === "") throw new Error("a problem without a message");
        for (const secret of Object.values(c.env)) {
          if (secret.length > 4 && `${e.message} ${e.hint ?? ""}`.includes(secret)) throw new Error(`a problem quotes a secret: ${e.message}`);
        }
      }
      return "refused";
    });
    if (i % 200 === 0) await Bun.sleep(0); // let the test runner breathe
  }
  return report;
}
