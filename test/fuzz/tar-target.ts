/**
 * The tarball fuzz target: each case is unpacked by the real TarballFetcher into a sandbox
 * (tar-sandbox.ts). A case passes when the fetcher either succeeds or refuses with a KilnError
 * of kind bad_request or too_large (with a message), leaves nothing behind on refusal, nothing
 * escapes the work dir, and it ends within the hang guard.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { KilnError } from "../../src/core/errors.ts";
import { TarballFetcher } from "../../src/adapters/sources/tarball.ts";
import { caseRng } from "./prng.ts";
import { FuzzReport, onlyCase } from "./report.ts";
import { tarCase } from "./tar-cases.ts";
import { makeSandbox } from "./tar-sandbox.ts";

/** A case still running after this long is reported as a hang (a guard, not a performance bound). */
export const HANG_MS = 10_000;

export async function withHangGuard<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: Timer | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why an error thrown at a caller is not a proper refusal, or null when it is one. */
export function notARefusal(err: unknown): string | null {
  if (!(err instanceof KilnError)) return `unhandled ${err instanceof Error ? `${err.name}: ${err.stack ?? err.message}` : String(err)}`;
  if (err.kind !== "bad_request" && err.kind !== "too_large") return `KilnError of kind ${err.kind}: ${err.message}`;
  if (err.message.trim() === "") return "a refusal without a message";
  return null;
}

export async function runTarFuzz(seed: number, cases: number): Promise<FuzzReport> {
  const report = new FuzzReport("tarball extraction", seed, cases);
  const box = makeSandbox();
  const fetcher = new TarballFetcher();
  const only = onlyCase();
  try {
    for (let i = 0; i < cases; i++) {
      if (only !== undefined && i !== only) continue;
      const c = tarCase(caseRng(seed, i), box.sentinel);
      await report.run(i, c.label, async () => {
        writeFileSync(box.upload, c.bytes);
        let outcome = "ok";
        try {
          await withHangGuard("extraction", fetcher.fetch({ kind: "tarball", file: box.upload }, box.dest, { log: () => {} }));
        } catch (err) {
          const problem = notARefusal(err);
          if (problem) throw new Error(problem);
          outcome = `refused:${(err as KilnError).kind}`;
          if (existsSync(box.dest) || readdirSync(box.work).length > 0) throw new Error(`refused (${(err as Error).message}) but left ${readdirSync(box.work).join(", ")} behind`);
        }
        const escaped = box.check();
        if (escaped.length > 0) throw new Error(escaped.join("\n"));
        return outcome;
      });
    }
  } finally {
    box.remove();
  }
  return report;
}
