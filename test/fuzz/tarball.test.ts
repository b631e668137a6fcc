/**
 * Fuzz: mutated tarballs through the real TarballFetcher (tar-cases.ts, tar-target.ts). Every
 * case ends in success or a bad_request/too_large refusal, nothing is written outside the work
 * dir, no symlink in it leads out. Prints the seed (replay: KILN_FUZZ_SEED=<seed> [KILN_FUZZ_CASE=<n>]).
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { StepError } from "../../src/core/errors.ts";
import { TarballFetcher } from "../../src/adapters/sources/tarball.ts";
import { concatBytes } from "../../src/formats/tar/bytes.ts";
import { encodeEntry, encodeHeader, endOfArchive, paxRecord } from "../../src/formats/tar/encode.ts";
import { TEST_CASES, scaled } from "./counts.ts";
import { fuzzSeed } from "./prng.ts";
import { makeSandbox } from "./tar-sandbox.ts";
import { runTarFuzz } from "./tar-target.ts";

test("mutated tarballs: only refusals or success, nothing outside the work dir", async () => {
  const report = await runTarFuzz(fuzzSeed(), scaled(TEST_CASES.tarball));
  report.print();
  expect(report.failures).toEqual([]);
  expect(report.outcomes.get("ok")).toBeGreaterThan(0); // the valid archives among them unpack
}, 120_000);

/** Cases the fuzzer found, kept as fixed regressions. */
describe("found by fuzzing", () => {
  test("a pax size with a fraction is refused (it made the reader spin forever, freezing the process)", async () => {
    const record = new TextEncoder().encode(paxRecord("size", "1.5"));
    const archive = concatBytes([
      encodeHeader({ path: "PaxHeader/a", typeflag: "x", mode: 0o644, size: record.length, mtime: 0 }),
      record,
      new Uint8Array(512 - record.length),
      encodeEntry({ path: "a", type: "file", data: "ab" }),
      endOfArchive(),
    ]);
    const box = makeSandbox();
    try {
      writeFileSync(box.upload, archive);
      const err = await new TarballFetcher().fetch({ kind: "tarball", file: box.upload }, box.dest, { log: () => {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepError);
      expect((err as StepError).message).toBe('the upload is not a valid tar or tar.gz archive: bad pax size "1.5"');
      expect(box.check()).toEqual([]);
    } finally {
      box.remove();
    }
  });
});
