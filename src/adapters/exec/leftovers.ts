/**
 * Commands Kiln runs (git, rclone, railpack, buildctl, mount…) are its children: when Kiln is killed
 * with SIGKILL they live on, re-parented to init. A leftover `rclone copy` stuck on a hanging S3 could
 * finish after a later release and overwrite newer objects. So every command gets a marker in its
 * environment, `KILN_RUN_OWNER=<instance id>`, and a starting Kiln kills whatever still carries its own
 * marker — before it runs anything itself, so none of them can be its own.
 *
 *   const env = withOwnerMarker(config.childEnv, instanceId);      // base env of run()
 *   await killLeftoverCommands(instanceId);                        // at boot: { killed: [pids] }
 *
 * Long-lived processes Kiln adopts after a restart (Caddy, the tenant resolver) are started by
 * exec/supervisor.ts without the marker, so they are never touched here.
 */
import { readdir, readFile } from "node:fs/promises";

export const OWNER_VAR = "KILN_RUN_OWNER";

export function withOwnerMarker(env: Readonly<Record<string, string>>, instanceId: string): Record<string, string> {
  return { ...env, [OWNER_VAR]: instanceId };
}

/** True when a /proc/<pid>/environ text (NUL-separated) carries this owner's marker. */
export function carriesMarker(environ: string, instanceId: string): boolean {
  return environ.split("\0").includes(`${OWNER_VAR}=${instanceId}`);
}

/** Kills (SIGKILL) every process whose environment carries this instance's marker; returns their pids. */
export async function killLeftoverCommands(instanceId: string, procDir = "/proc"): Promise<number[]> {
  const killed: number[] = [];
  const pids = (await readdir(procDir).catch(() => [] as string[])).filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  for (const pid of pids) {
    const environ = await readFile(`${procDir}/${pid}/environ`, "latin1").catch(() => "");
    if (!carriesMarker(environ, instanceId)) continue;
    try {
      process.kill(Number(pid), "SIGKILL");
      killed.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}
