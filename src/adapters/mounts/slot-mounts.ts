/**
 * Tenant directories into running, pre-warmed containers, without restarting or exec'ing.
 *
 * Every pool member is created with two bind mounts, propagation `rslave`, from its slot:
 *   <slotsRoot>/<memberId>/state   → the workload's state target (read-write)
 *   <slotsRoot>/<memberId>/secrets → the secrets target (read-only)
 * slotsRoot is a shared mount, so a mount made on a slot directory on the host propagates into
 * the container at once. attach() binds the tenant's directories onto the slots; detach()
 * unmounts them (which propagates too).
 *
 * Read-only secrets: `mount --bind -o ro` is a bind (read-write) then a remount, and the remount
 * does not propagate — the container would get a writable mount. So the tenant's secrets are
 * first bound read-only in a private staging directory, and that read-only mount is bound onto
 * the slot: bind mounts copy the read-only flag, propagated copies too.
 *
 * Needs root (CAP_SYS_ADMIN in the host mount namespace, the one dockerd uses).
 */
import { lstatSync, mkdirSync, readFileSync } from "node:fs";
import { chmod, lstat, mkdir, realpath, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { KilnError, conflict, errorMessage, unavailable } from "../../core/errors.ts";
import { isMemberId } from "../../core/names.ts";
import { run } from "../exec/run.ts";
import { syscallExec } from "./syscall-exec.ts";
import {
  bindArgv,
  classifyMountFailure,
  lazyUmountArgv,
  makePrivateArgv,
  makeRsharedArgv,
  mountFailureMessage,
  readOnlyBindArgv,
  umountArgv,
} from "./mount-commands.ts";
import { CAP_SYS_ADMIN, hasCapability } from "./capabilities.ts";
import { isAtOrUnder, mountsUnder, parseMountInfo, topMountAt, type MountEntry } from "./mountinfo.ts";

export interface SlotPaths {
  /** Bind source for the container's state target. */
  state: string;
  /** Bind source for the container's secrets target. */
  secrets: string;
}

export interface AttachSources {
  /** The tenant's state directory (absolute). */
  state?: string;
  /** The tenant's secrets directory (absolute). */
  secrets?: string;
  /** Default true. False binds the secrets read-write (a workload with `secrets.readOnly: false`). */
  secretsReadOnly?: boolean;
}

export interface DetachResult {
  /** Mount points unmounted. */
  unmounted: string[];
  /** Of those, the ones that were busy and were detached lazily (gone from view, freed when idle). */
  lazy: string[];
}

/** Runs one mount/umount argv; the exit code and the last lines of output. */
export type MountExec = (argv: string[]) => Promise<{ code: number; tail: string[] }>;

export interface SlotMountsOptions {
  slotsRoot: string;
  /** Private directory for the read-only staging binds. Not inside slotsRoot. */
  stagingRoot: string;
  exec?: MountExec;
  /** The environment mount(8) and umount(8) start from (config.childEnv), when they run. */
  baseEnv?: Readonly<Record<string, string>>;
  /** Reads the mountinfo text (default /proc/self/mountinfo). */
  readMountInfo?: () => Promise<string>;
  /** Reads this process's status text, for its capabilities (default /proc/self/status). */
  readProcStatus?: () => Promise<string>;
  /**
   * Other Kilns mount under these roots too (they share a pools directory): mountinfo is read on
   * every question instead of cached, and release() leaves the roots mounted for the others.
   */
  shared?: boolean;
}

const NEEDS_ROOT_HINT = "Kiln's tenant pools need root to bind tenant directories into pre-warmed containers";
const STAGING_SUFFIX = "-secrets";

/** Runs mount(8)/umount(8) as child processes that start from `baseEnv`. */
export function processExec(baseEnv?: Readonly<Record<string, string>>): MountExec {
  return async (argv) => {
    try {
      return await run({ argv }, { baseEnv, timeoutMs: 15_000 });
    } catch (err) {
      throw unavailable(`cannot run ${argv[0]}: ${errorMessage(err)}`, "install util-linux's mount (apt-get install mount)");
    }
  };
}

export class SlotMounts {
  #slotsRoot: string;
  #stagingRoot: string;
  readonly #exec: MountExec;
  readonly #readMountInfo: () => Promise<string>;
  readonly #readProcStatus: () => Promise<string>;
  readonly #shared: boolean;
  /** Prepares run one after another; the latest one is what the other methods wait for. */
  #prepareChain: Promise<void> = Promise.resolve();
  #prepared: Promise<void> | null = null;
  /**
   * Members with tenant directories attached: read from mountinfo once prepared, then kept up to
   * date by attach/detach (Kiln is the only one mounting under its roots). Lets a claim skip reading
   * mountinfo, which costs milliseconds on a busy machine. Null: unknown, ask mountinfo (always, when
   * the roots are shared with other Kilns).
   */
  #attachedIds: Set<string> | null = null;
  /** Per-member queue: attach/detach of one member never interleave. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(opts: SlotMountsOptions) {
    if (!opts.slotsRoot.startsWith("/") || !opts.stagingRoot.startsWith("/")) {
      throw new KilnError("internal", "slotsRoot and stagingRoot must be absolute paths");
    }
    this.#slotsRoot = resolve(opts.slotsRoot);
    this.#stagingRoot = resolve(opts.stagingRoot);
    if (isAtOrUnder(this.#stagingRoot, this.#slotsRoot) || isAtOrUnder(this.#slotsRoot, this.#stagingRoot)) {
      throw new KilnError("internal", "stagingRoot and slotsRoot must not contain each other");
    }
    this.#exec = opts.exec ?? syscallExec(processExec(opts.baseEnv));
    // Read synchronously: a small procfs read on the claim path, where a thread-pool hop costs more.
    this.#readMountInfo = opts.readMountInfo ?? (async () => readFileSync("/proc/self/mountinfo", "utf8"));
    this.#readProcStatus = opts.readProcStatus ?? (async () => readFileSync("/proc/self/status", "utf8"));
    this.#shared = opts.shared ?? false;
  }

  get slotsRoot(): string {
    return this.#slotsRoot;
  }

  get stagingRoot(): string {
    return this.#stagingRoot;
  }

  /**
   * Create the roots; make slotsRoot a shared mount and stagingRoot a private one (each bound
   * onto itself first unless it already is a mount point). Idempotent; run before creating
   * members (Docker refuses an rslave bind whose source is on a non-shared mount).
   * Fails first, with a hint, when this process may not mount (not root, no CAP_SYS_ADMIN).
   */
  prepare(): Promise<void> {
    const next = this.#prepareChain.catch(() => undefined).then(() => this.#prepare());
    this.#prepareChain = next;
    this.#prepared = next;
    return next;
  }

  async #prepare(): Promise<void> {
    this.#attachedIds = null;
    if (!hasCapability(await this.#readProcStatus(), CAP_SYS_ADMIN)) {
      const uid = process.getuid?.() ?? -1;
      throw unavailable(
        `cannot bind mount: this process (uid ${uid}) lacks CAP_SYS_ADMIN`,
        `${NEEDS_ROOT_HINT} (run Kiln as root)`,
      );
    }
    for (const dir of [this.#slotsRoot, this.#stagingRoot]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    }
    // mountinfo shows resolved paths
    this.#slotsRoot = await realpath(this.#slotsRoot);
    this.#stagingRoot = await realpath(this.#stagingRoot);
    let mounts = await this.#mounts();
    for (const [dir, wanted] of [
      [this.#slotsRoot, "shared"],
      [this.#stagingRoot, "private"],
    ] as const) {
      if (!topMountAt(mounts, dir)) {
        await this.#mount(bindArgv(dir, dir), `make ${dir} a mount point`);
        mounts = await this.#mounts();
      }
      const top = topMountAt(mounts, dir);
      if (wanted === "shared" && top?.shared === null) await this.#mount(makeRsharedArgv(dir), `make ${dir} shared`);
      if (wanted === "private" && (top?.shared !== null || top?.master !== null)) {
        await this.#mount(makePrivateArgv(dir), `make ${dir} private`);
      }
    }
    this.#attachedIds = this.#shared ? null : attachedIn(await this.#mounts(), this.#slotsRoot, this.#stagingRoot);
  }

  /**
   * The member's bind sources, created (root's, 0755: before a claim the workload sees empty
   * directories it cannot write). Call before creating the container.
   */
  async slotFor(memberId: string): Promise<SlotPaths> {
    const slot = this.#slot(memberId);
    // Synchronous for the same reason as the mountinfo read: it is on the claim path.
    mkdirSync(this.#memberDir(memberId), { recursive: true, mode: 0o700 });
    mkdirSync(slot.state, { recursive: true, mode: 0o755 });
    mkdirSync(slot.secrets, { recursive: true, mode: 0o755 });
    return slot;
  }

  /**
   * Bind the tenant's directories onto the member's slots: visible in the running container at
   * once. All or nothing: on failure, what was mounted is unmounted again.
   */
  attach(memberId: string, sources: AttachSources): Promise<void> {
    return this.#locked(memberId, () => this.#attach(memberId, sources));
  }

  /**
   * Unmount whatever is mounted at the member's slots and staging path (idempotent), then
   * remove the member's slot directories.
   */
  detach(memberId: string): Promise<DetachResult> {
    return this.#locked(memberId, () => this.#detach(memberId));
  }

  /** Members with something mounted at their slots or staging path (reconcile after a crash). */
  /**
   * When no member is attached any more: undo prepare() (unmount the two roots), so Kiln's data
   * dir holds no mount after a clean stop. With attachments it does nothing: claims outlive Kiln.
   */
  async release(): Promise<boolean> {
    if (this.#shared || (await this.attached()).length > 0) return false;
    for (const root of [this.#stagingRoot, this.#slotsRoot]) {
      for (let i = 0; i < 3 && (await this.#unmount(root)) !== "not_mounted"; i++);
    }
    this.#prepared = null;
    this.#attachedIds = null;
    return true;
  }

  async attached(): Promise<string[]> {
    await this.#ensurePrepared();
    return [...attachedIn(await this.#mounts(), this.#slotsRoot, this.#stagingRoot)].sort();
  }

  async #attach(memberId: string, sources: AttachSources): Promise<void> {
    await this.#ensurePrepared();
    const slot = await this.slotFor(memberId);
    const staging = this.#stagingPath(memberId);
    for (const source of [sources.state, sources.secrets]) if (source !== undefined) await assertDirectory(source);
    if (await this.#isAttached(memberId)) {
      throw conflict(`pool member ${memberId} already has tenant directories attached`, "detach it first");
    }
    // Two rounds: the state bind and the read-only staging bind are independent, the slot bind
    // of the secrets needs the staging one.
    const what = (verb: string) => `${verb} for member ${memberId}`;
    const stageSecrets = sources.secrets !== undefined && sources.secretsReadOnly !== false;
    if (stageSecrets) {
      try {
        mkdirSync(staging, { mode: 0o700 });
      } catch (err) {
        ignoreExists(err);
      }
    }
    const firstRound: Promise<void>[] = [];
    if (sources.state !== undefined) firstRound.push(this.#mount(bindArgv(sources.state, slot.state), what("bind tenant state")));
    if (sources.secrets !== undefined) {
      firstRound.push(
        stageSecrets
          ? this.#mount(readOnlyBindArgv(sources.secrets, staging), what("stage tenant secrets"))
          : this.#mount(bindArgv(sources.secrets, slot.secrets), what("bind tenant secrets")),
      );
    }
    try {
      const failed = (await Promise.allSettled(firstRound)).find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      if (stageSecrets) await this.#mount(bindArgv(staging, slot.secrets), what("bind tenant secrets"));
      this.#attachedIds?.add(memberId);
    } catch (err) {
      // Undo whatever got mounted (mountinfo knows; a failed `mount -o ro` may leave its bind).
      const undone = await this.#unmountAll(memberId).then(() => true, () => false);
      if (!undone) this.#attachedIds = null;
      throw err;
    }
  }

  async #isAttached(memberId: string): Promise<boolean> {
    if (this.#attachedIds) return this.#attachedIds.has(memberId);
    const mounts = await this.#mounts();
    return mountsUnder(mounts, this.#memberDir(memberId)).length > 0 || mountsUnder(mounts, this.#stagingPath(memberId)).length > 0;
  }

  async #detach(memberId: string): Promise<DetachResult> {
    await this.#ensurePrepared();
    const memberDir = this.#memberDir(memberId);
    const staging = this.#stagingPath(memberId);
    const result = await this.#unmountAll(memberId);
    const left = await this.#mounts();
    const remaining = [...mountsUnder(left, memberDir), ...mountsUnder(left, staging)];
    if (remaining.length > 0) {
      this.#attachedIds?.add(memberId);
      // Never delete through a mount: that would delete tenant data.
      throw new KilnError(
        "internal",
        `pool member ${memberId} still has mounts after unmounting: ${remaining.map((m) => m.mountPoint).join(", ")}`,
      );
    }
    this.#attachedIds?.delete(memberId);
    // Nothing is mounted below: what is left is the member's own (writes before the claim).
    await rm(memberDir, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
    return result;
  }

  /**
   * Unmount everything at or below the member's slot dir and staging path: slots first (their
   * unmount is what propagates into the container), deepest first.
   */
  async #unmountAll(memberId: string): Promise<DetachResult> {
    const result: DetachResult = { unmounted: [], lazy: [] };
    const mounts = await this.#mounts();
    for (const m of [...mountsUnder(mounts, this.#memberDir(memberId)), ...mountsUnder(mounts, this.#stagingPath(memberId))]) {
      const how = await this.#unmount(m.mountPoint);
      if (how === "not_mounted") continue;
      result.unmounted.push(m.mountPoint);
      if (how === "lazy") result.lazy.push(m.mountPoint);
    }
    return result;
  }

  /** Unmount the top mount at `path`; a busy one lazily. */
  async #unmount(path: string): Promise<"unmounted" | "lazy" | "not_mounted"> {
    const res = await this.#exec(umountArgv(path));
    if (res.code === 0) return "unmounted";
    const failure = classifyMountFailure(res.tail);
    if (failure === "not_mounted") return "not_mounted";
    if (failure === "busy") {
      await this.#mount(lazyUmountArgv(path), `unmount ${path} (lazily, it was busy)`);
      return "lazy";
    }
    throw this.#failure(`unmount ${path}`, res.tail);
  }

  async #mount(argv: string[], what: string): Promise<void> {
    const res = await this.#exec(argv);
    if (res.code !== 0) throw this.#failure(what, res.tail);
  }

  #failure(what: string, tail: readonly string[]): KilnError {
    const detail = mountFailureMessage(tail);
    if (classifyMountFailure(tail) === "not_permitted") {
      return unavailable(`cannot ${what}: ${detail}`, `${NEEDS_ROOT_HINT} (run Kiln as root)`);
    }
    return unavailable(`cannot ${what}: ${detail}`);
  }

  async #mounts(): Promise<MountEntry[]> {
    return parseMountInfo(await this.#readMountInfo());
  }

  async #ensurePrepared(): Promise<void> {
    const prepared = this.#prepared ?? this.prepare();
    try {
      await prepared;
    } catch (err) {
      if (this.#prepared === prepared) this.#prepared = null; // the next call tries again
      throw err;
    }
  }

  #memberDir(memberId: string): string {
    if (!isMemberId(memberId)) throw new KilnError("internal", `invalid pool member id ${JSON.stringify(memberId)}`);
    return `${this.#slotsRoot}/${memberId}`;
  }

  #slot(memberId: string): SlotPaths {
    const dir = this.#memberDir(memberId);
    return { state: `${dir}/state`, secrets: `${dir}/secrets` };
  }

  #stagingPath(memberId: string): string {
    this.#memberDir(memberId); // validates
    return `${this.#stagingRoot}/${memberId}${STAGING_SUFFIX}`;
  }

  async #locked<T>(memberId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(memberId) ?? Promise.resolve();
    const next = before.catch(() => undefined).then(fn);
    this.#locks.set(memberId, next);
    try {
      return await next;
    } finally {
      if (this.#locks.get(memberId) === next) this.#locks.delete(memberId);
    }
  }
}

/** The first path segment of `path` below `dir`, or null when `path` is not strictly below. */
function childName(path: string, dir: string): string | null {
  if (!path.startsWith(`${dir}/`)) return null;
  return path.slice(dir.length + 1).split("/")[0] || null;
}

async function assertDirectory(path: string): Promise<void> {
  if (!path.startsWith("/")) throw new KilnError("internal", `tenant directory must be absolute: ${path}`);
  let st: ReturnType<typeof lstatSync> | null = null;
  try {
    st = lstatSync(path);
  } catch {
    st = null;
  }
  if (!st?.isDirectory()) {
    throw new KilnError("internal", `tenant directory ${path} is missing or not a plain directory`);
  }
}

function ignoreExists(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
}

/** Member ids with something mounted at their slots or staging path. */
function attachedIn(mounts: MountEntry[], slotsRoot: string, stagingRoot: string): Set<string> {
  const ids = new Set<string>();
  for (const m of mounts) {
    const inSlots = childName(m.mountPoint, slotsRoot);
    if (inSlots !== null) ids.add(inSlots);
    const inStaging = childName(m.mountPoint, stagingRoot);
    if (inStaging?.endsWith(STAGING_SUFFIX)) ids.add(inStaging.slice(0, -STAGING_SUFFIX.length));
  }
  return ids;
}
