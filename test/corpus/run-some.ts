/**
 * Deploy chosen corpus apps by hand: `bun test/corpus/run-some.ts nest-app vite-react` (both
 * ways; `--via=tarball` for one). Prints one line per deploy. For working on the builder.
 */
import { startGitDaemon } from "../helpers/git-daemon.ts";
import { startTestKiln } from "../helpers/kiln.ts";
import { ALL_CORPUS } from "./corpus.ts";
import { deployCorpusApp } from "./deploy-app.ts";

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith("--"));
const viaArg = args.find((a) => a.startsWith("--via="))?.slice(6);
const vias = viaArg ? [viaArg as "tarball" | "git"] : (["tarball", "git"] as const);
const kiln = await startTestKiln();
const gitd = await startGitDaemon();
let n = 0;
try {
  for (const app of ALL_CORPUS.filter((a) => only.length === 0 || only.includes(a.fixture))) {
    for (const via of vias) {
      const r = await deployCorpusApp(kiln, gitd, app, via, `try-${++n}-${app.fixture}`.slice(0, 40));
      console.log(`${r.problems.length ? "FAIL" : "ok  "} ${app.fixture} ${via} ${(r.ms / 1000).toFixed(1)}s ${r.status} ${r.plan ?? ""}`);
      for (const p of r.problems) console.log(`     ${p}`);
    }
  }
} finally {
  await gitd.stop();
  await kiln.rollout.settled();
  await kiln.stop();
}
