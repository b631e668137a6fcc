/**
 * Where a tenant's directories live on the host, and how they are made:
 *
 *   <dataDir>/tenants/                        root:root 0700
 *   <dataDir>/tenants/<workload>/             root:root 0700
 *   <dataDir>/tenants/<workload>/<tenant>/    root:root 0700   (root)
 *                                   state/    uid:gid   0700   read-write in the container
 *                                   secrets/  root:gid  0750   read-only in the container
 *                                   state.incoming/  a restore being downloaded (then renamed to state/)
 *                                   state.replaced/  the state it replaces, for the instant between renames
 *
 * The 0700 directories above keep every host user but root out; the container never walks them
 * (state and secrets are bind-mounted, so only their own modes count inside). state belongs to
 * the workload user so a non-root workload can write it. secrets stays root's (the workload must
 * not change it; the mount is read-only anyway) and the workload user reads it through its
 * group: 0750 with group = the workload's gid. When that gid is unknown — user "uid" alone
 * (Docker then takes the image's passwd group, or 0), or no user (the image's default) — the
 * group cannot be chosen, so secrets is 0755: nothing more is exposed, because on the host the
 * 0700 tenant root still guards it, and inside the container there is only this tenant.
 *
 * A restore (the download on claim) never writes into state/: prepareIncoming makes state.incoming
 * (a copy of state, or empty), the download fills it, and swapInIncoming renames it into place only
 * once complete; discardIncoming removes it after a failure. A crash between the two renames leaves no
 * state/ but state.replaced/: ensureTenantDirs puts that back, so the tenant is as before the claim.
 *
 * Tenant ids are lowercase only, never case-folded: they name directories and storage prefixes,
 * where "Alice" and "alice" must not quietly become the same tenant (nor two different ones on
 * a case-insensitive store). Callers that get mixed case from users lowercase it themselves.
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync } from "node:fs";
import { lchown, readdir, rm } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { KilnError, badRequest } from "../../core/errors.ts";
import { isWorkloadId, validateTenantId } from "../../core/names.ts";
import { run } from "../exec/run.ts";


export interface TenantDirs {
  /** <dataDir>/tenants/<workload>/<tenant> */
  root: string;
  /** Bound read-write at the workload's state target. */
  state: string;
  /** Bound read-only at the workload's secrets target. */
  secrets: string;
  /** A restore being downloaded, beside state (same filesystem, so it can be renamed into place). */
  incoming: string;
}

/** The tenant's directories (not created). Both ids are checked; the paths cannot leave dataDir/tenants. */
export function tenantDirs(dataDir: string, workloadId: string, tenantId: string): TenantDirs {
  validateTenantId(tenantId);
  if (!isWorkloadId(workloadId)) throw badRequest(`invalid workload id ${JSON.stringify(workloadId)}`);
  const base = resolve(dataDir, "tenants");
  const root = resolve(base, workloadId, tenantId);
  const state = resolve(root, "state");
  const secrets = resolve(root, "secrets");
  const incoming = resolve(root, "state.incoming");
  // Defence in depth: the checks above already rule out '/', '..' and the like.
  for (const p of [root, state, secrets, incoming]) {
    if (!p.startsWith(base + sep)) throw new KilnError("internal", `tenant path ${p} escapes ${base}`);
  }
  return { root, state, secrets, incoming };
}

/** Where the state a restore replaces waits while the restore is renamed into place. */
const replacedOf = (dirs: TenantDirs) => resolve(dirs.root, "state.replaced");

/** Who runs the workload: numeric ids. `gid` null when the workload's user names no group. */
export interface WorkloadOwner {
  uid: number;
  gid: number | null;
}

const ID_MAX = 2 ** 31 - 1;

/** A workload `user` ("uid" or "uid:gid", numeric) → ids; null for no user (the image's default). */
export function parseUser(user: string | null): WorkloadOwner | null {
  if (user === null || user === "") return null;
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  const uid = Number(m?.[1]);
  const gid = m?.[2] === undefined ? null : Number(m[2]);
  if (!m || uid > ID_MAX || (gid !== null && gid > ID_MAX)) {
    throw badRequest(
      `workload user ${JSON.stringify(user)} is not "uid" or "uid:gid"`,
      "give numeric ids, e.g. \"1000\" or \"1000:1000\" (Kiln makes the tenant's state directory theirs)",
    );
  }
  return { uid, gid };
}

/**
 * Create the tenant's directories (idempotent) and set owners and modes as described above.
 * Refuses to work through a symlink or a non-directory at any of the paths.
 *
 * These use the synchronous calls: they are a handful of metadata syscalls on the
 * claim path (well under a millisecond together), where a hop through the thread pool per call would
 * let other work interleave and cost more than the calls.
 */
export async function ensureTenantDirs(dirs: TenantDirs, owner: WorkloadOwner | null): Promise<void> {
  const workloadDir = resolve(dirs.root, "..");
  const tenantsDir = resolve(workloadDir, "..");
  mkdirSync(resolve(tenantsDir, ".."), { recursive: true });
  for (const dir of [tenantsDir, workloadDir, dirs.root]) ensurePlainDir(dir, 0, 0, 0o700);
  await repairInterruptedRestore(dirs);
  ensurePlainDir(dirs.state, owner?.uid ?? 0, owner?.gid ?? 0, 0o700);
  const gid = owner?.gid ?? null;
  ensurePlainDir(dirs.secrets, 0, gid ?? 0, gid === null ? 0o755 : 0o750);
}

/**
 * Make state.incoming for a restore (after ensureTenantDirs): a copy of state — so what the download
 * does not cover stays, and rclone fetches only what differs — or, when state is empty, an empty
 * directory with state's owner and mode. A leftover from an interrupted restore is removed first.
 * The copy is `cp -a` (owners, modes, times, symlinks as symlinks, hard links; reflinks where the
 * filesystem has them); state.incoming is inside the 0700 tenant root, like state.
 */
export async function prepareIncoming(dirs: TenantDirs, owner: WorkloadOwner | null): Promise<string> {
  await discardIncoming(dirs);
  if (readdirSync(dirs.state).length === 0) {
    ensurePlainDir(dirs.incoming, owner?.uid ?? 0, owner?.gid ?? 0, 0o700);
    return dirs.incoming;
  }
  const res = await run({ argv: ["/bin/cp", "-a", "--reflink=auto", "--", dirs.state, dirs.incoming] });
  if (res.code !== 0) {
    await discardIncoming(dirs);
    throw new KilnError("internal", `could not copy ${dirs.state} for a restore: ${res.tail.slice(-3).join("; ") || `cp exit ${res.code}`}`, "check the free space of Kiln's data dir");
  }
  return dirs.incoming;
}

/**
 * Put a completed restore in place of state (two renames on one filesystem; state is missing only
 * between them, and ensureTenantDirs repairs that) and delete the replaced state. Nothing may hold
 * state open meanwhile: a claimed tenant's state is bind-mounted, so restores run before the mount.
 */
export async function swapInIncoming(dirs: TenantDirs): Promise<void> {
  const replaced = replacedOf(dirs);
  await rm(replaced, { recursive: true, force: true });
  renameSync(dirs.state, replaced);
  renameSync(dirs.incoming, dirs.state);
  await rm(replaced, { recursive: true, force: true });
}

/**
 * What a restore cut short (Kiln killed) left: state.replaced without state — between the two renames —
 * goes back to being state (the claim never returned: the tenant is as before); with state, it is
 * the old copy of a completed swap and goes. state.incoming goes. Two existence checks when clean.
 */
async function repairInterruptedRestore(dirs: TenantDirs): Promise<void> {
  const replaced = replacedOf(dirs);
  if (existsSync(replaced)) {
    if (existsSync(dirs.state)) await rm(replaced, { recursive: true, force: true });
    else renameSync(replaced, dirs.state);
  }
  if (existsSync(dirs.incoming)) await discardIncoming(dirs);
}

/** Remove state.incoming and all in it (a failed or abandoned restore); no error when absent. */
export async function discardIncoming(dirs: TenantDirs): Promise<void> {
  await rm(dirs.incoming, { recursive: true, force: true });
}

/**
 * Give everything under `dir` (and `dir`) to the workload user, without following symlinks.
 * For state that root wrote (e.g. a download on claim) before the workload gets it.
 */
export async function chownTree(dir: string, owner: WorkloadOwner): Promise<void> {
  const gid = owner.gid ?? -1;
  await lchown(dir, owner.uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = resolve(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, owner);
    else await lchown(path, owner.uid, gid);
  }
}

function ensurePlainDir(path: string, uid: number, gid: number, mode: number): void {
  try {
    mkdirSync(path, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const st = lstatSync(path);
  if (!st.isDirectory()) {
    throw new KilnError("internal", `${path} should be a directory but is a ${st.isSymbolicLink() ? "symlink" : "file"}`);
  }
  if (st.uid !== uid || st.gid !== gid) chownSync(path, uid, gid);
  if ((st.mode & 0o7777) !== mode) chmodSync(path, mode);
}
