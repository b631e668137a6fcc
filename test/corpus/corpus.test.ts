/**
 * The CI tier of the corpus: every app marked `ci` is deployed from a tarball and from git
 * through a real Kiln (Docker engine, Caddy, the zero-config builder) and judged by its answers,
 * or, for the traps that must fail, by a failure reason that says what to fix. The whole corpus,
 * with time per app, is bench/deploy.bench.ts's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startGitDaemon, type GitDaemon } from "../helpers/git-daemon.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { ALL_CORPUS } from "./corpus.ts";
import { deployCorpusApp } from "./deploy-app.ts";

let kiln: TestKiln;
let gitd: GitDaemon;

beforeAll(async () => {
  kiln = await startTestKiln();
  gitd = await startGitDaemon();
});

afterAll(async () => {
  await gitd?.stop();
  await kiln?.rollout.settled();
  await kiln?.stop();
}, 90_000);

describe("corpus (CI tier)", () => {
  let n = 0;
  for (const app of ALL_CORPUS.filter((a) => a.ci)) {
    for (const via of ["tarball", "git"] as const) {
      test(`${app.shape}${app.trap ? ` [trap: ${app.trap}]` : ""} — from ${via}`, async () => {
        const result = await deployCorpusApp(kiln, gitd, app, via, `corpus-${++n}-${app.fixture}`.slice(0, 40));
        expect(result.problems).toEqual([]);
      }, 900_000);
    }
  }
});
