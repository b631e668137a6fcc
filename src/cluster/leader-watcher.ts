/**
 * The runtime watcher of a Kiln among several: only the leader follows app containers' output
 * (one publisher per container's lines). Elsewhere `watch` does nothing; the leader's reconciler
 * pass follows every running container not yet followed (from its stored resume point, so no
 * line is lost, only later), and a Kiln that stops leading stops following.
 */
import { RuntimeWatcher } from "../containers/runtime-watch.ts";
import type { Leadership } from "./leader.ts";

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

  override watch(deploymentId: string, containerId: string, sinceSeconds?: number): void {
    if (!this.#leadership?.isLeader()) return;
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
