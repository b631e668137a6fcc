/**
 * The corpus part of the deploy benchmark: every corpus app (test/corpus/corpus.ts) deployed from a
 * tarball and then from git through the same Kiln, with the time from the request to running (or
 * to the failure the trap must give) and whether it did what the corpus says. The first deploy of
 * an app runs with whatever build cache earlier apps left (npm/pnpm/yarn caches are shared); the
 * git deploy of the same tree is served by the build cache, so it shows the cached time.
 */
import { startGitDaemon } from "../test/helpers/git-daemon.ts";
import type { TestKiln } from "../test/helpers/kiln.ts";
import { ALL_CORPUS } from "../test/corpus/corpus.ts";
import { deployCorpusApp, type CorpusResult } from "../test/corpus/deploy-app.ts";

export async function corpusTable(kiln: TestKiln, only: string[] = []): Promise<{ lines: string[]; failed: number }> {
  const gitd = await startGitDaemon();
  const rows: { shape: string; trap?: string; tarball: CorpusResult; git: CorpusResult }[] = [];
  try {
    let n = 0;
    for (const app of ALL_CORPUS.filter((a) => only.length === 0 || only.includes(a.fixture))) {
      const tarball = await deployCorpusApp(kiln, gitd, app, "tarball", `cb-${++n}-${app.fixture}`.slice(0, 40));
      const git = await deployCorpusApp(kiln, gitd, app, "git", `cb-${++n}-${app.fixture}`.slice(0, 40));
      rows.push({ shape: app.shape, trap: app.trap, tarball, git });
    }
  } finally {
    await gitd.stop();
  }
  const verdict = (r: CorpusResult) => (r.problems.length === 0 ? (r.status === "failed" ? "fails as it must" : "answers") : "WRONG");
  const width = Math.max(...rows.map((r) => r.tarball.fixture.length), 8);
  const lines = [
    `corpus: ${rows.length} apps, each from a tarball and from git (time from the deploy request to running)`,
    `  ${"app".padEnd(width)}  ${"tarball".padStart(8)}  ${"git".padStart(8)}  result           shape`,
  ];
  let failed = 0;
  for (const r of rows) {
    const ok = r.tarball.problems.length === 0 && r.git.problems.length === 0;
    if (!ok) failed++;
    const result = ok ? verdict(r.tarball) : "WRONG";
    lines.push(`  ${r.tarball.fixture.padEnd(width)}  ${sec(r.tarball.ms).padStart(8)}  ${sec(r.git.ms).padStart(8)}  ${result.padEnd(16)} ${r.shape}${r.trap ? ` [trap: ${r.trap}]` : ""}`);
    for (const p of [...r.tarball.problems.map((p) => `tarball: ${p}`), ...r.git.problems.map((p) => `git: ${p}`)]) lines.push(`      ${p.split("\n")[0]}`);
  }
  const total = rows.reduce((s, r) => s + r.tarball.ms + r.git.ms, 0);
  lines.push(`  ${rows.length - failed}/${rows.length} apps did what the corpus says, from both sources; ${sec(total)} in all`);
  return { lines, failed };
}

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
