/**
 * The runtime watcher of a Kiln among several: only the leader follows app containers' output
 * (one publisher per container's lines). Elsewhere `watch` asks the leader to follow (NOTIFY
 * kiln_follow: deployment, container, since), so a container started by any Kiln is followed at
 * once; a notice lost (the leader between connections, or changing) is made up by the leader's
 * reconciler pass, which follows every running container not yet followed — from its stored resume
 * point, so no line is lost, only later. A Kiln that stops leading stops following.
 */
import type { SQL } from "bun";
import { RuntimeWatcher } from "../containers/runtime-watch.ts";
import type { Leadership } from "./leader.ts";

const CHANNEL = "kiln_follow";

/** A follow request as sent between Kilns; anything else on the channel is ignored. */
function parseFollow(payload: string): { d: string; c: string; s?: number } | null {
  try {
    const v = JSON.parse(payload) as { d?: unknown; c?: unknown; s?: unknown };
    if (typeof v.d !== "string" || typeof v.c !== "string" || !v.d || !v.c) return null;
    return { d: v.d, c: v.c, ...(typeof v.s === "number" && Number.isFinite(v.s) ? { s: v.s } : {}) };
  } catch {
    return null;
  }
}

export class LeaderRuntimeWatcher extends RuntimeWatcher {
  #leadership: Leadership | null = null;
  #open: (deploymentId: string) => { ready: boolean; opening: Promise<void> } = () => ({ ready: true, opening: Promise.resolve() });

  /**
   * Set once, before any watch (main.ts). `open` opens the deployment's log stream on this Kiln's
   * bus (it may have been made on another Kiln): `ready` when it was open already.
   */
  led(leadership: Leadership, open?: (deploymentId: string) => { ready: boolean; opening: Promise<void> }): void {
    this.#leadership = leadership;
    if (open) this.#open = open;
    leadership.onChange((leading) => {
      if (!leading) this.stopAll();
    });
  }

  #db: SQL | null = null;
  #sub: { unlisten(): Promise<void> } | null = null;

  /** Ask the leader to follow what this Kiln starts, and follow what others ask for while leading. */
  async relay(db: SQL, onError: (err: unknown) => void = () => {}): Promise<void> {
    this.#db = db;
    this.#onError = onError;
    this.#sub = await db.listen(CHANNEL, (payload) => {
      const f = parseFollow(payload);
      if (f && this.#leadership?.isLeader() && !this.watching(f.d, f.c)) this.watch(f.d, f.c, f.s);
    });
  }

  async stopRelay(): Promise<void> {
    await this.#sub?.unlisten().catch(() => {});
    this.#sub = null;
    this.#db = null;
  }

  #onError: (err: unknown) => void = () => {};

  override watch(deploymentId: string, containerId: string, sinceSeconds?: number): void {
    if (!this.#leadership?.isLeader()) {
      // "From now" is the asker's now: the leader may hear of it a moment later.
      const payload = JSON.stringify({ d: deploymentId, c: containerId, s: sinceSeconds ?? Math.floor(Date.now() / 1000) });
      this.#db?.notify(CHANNEL, payload).catch((err: unknown) => this.#onError(err));
      return;
    }
    const stream = this.#open(deploymentId);
    if (stream.ready) return super.watch(deploymentId, containerId, sinceSeconds);
    void stream.opening.then(
      () => {
        if (this.#leadership?.isLeader() && !this.watching(deploymentId, containerId)) super.watch(deploymentId, containerId, sinceSeconds);
      },
      () => {}, // not opened (the database away): the next reconciler pass tries again
    );
  }
}
