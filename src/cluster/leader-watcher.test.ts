/**
 * Several Kilns: only the leader follows a Swarm service's output (the same gate as containers'),
 * and a Kiln that stops leading stops following. The follow itself is a stand-in here (its logic
 * is containers/service-follow.test.ts; the real engine, test/swarm/logs.test.ts).
 */
import { expect, test } from "bun:test";
import type { Leadership } from "./leader.ts";
import { standInWatcher } from "../../test/helpers/stand-in-watcher.ts";

class Switch implements Leadership {
  leading = false;
  readonly #cbs: ((l: boolean) => void)[] = [];
  isLeader = () => this.leading;
  onChange(cb: (l: boolean) => void) {
    this.#cbs.push(cb);
    return () => {};
  }
  set(l: boolean) {
    this.leading = l;
    for (const cb of this.#cbs) cb(l);
  }
  stop = async () => {};
}

test("only the leader follows a Swarm service; losing the lead stops the follow", async () => {
  const following = new Set<string>();
  const w = standInWatcher(following);
  const lead = new Switch();
  w.led(lead);
  w.watch("d1", "swarm:kiln-app-d1");
  expect(w.watching("d1", "swarm:kiln-app-d1")).toBe(false);
  expect(following.size).toBe(0);
  lead.set(true);
  w.watch("d1", "swarm:kiln-app-d1"); // the leader's reconciler pass
  expect(w.watching("d1", "swarm:kiln-app-d1")).toBe(true);
  expect([...following]).toEqual(["swarm:kiln-app-d1"]);
  lead.set(false);
  expect(following.size).toBe(0);
  expect(w.watching("d1", "swarm:kiln-app-d1")).toBe(false);
});
