/**
 * Lifecycles as data: a transition table per entity, and the one error for a move it forbids.
 * A status changes only through its table — the store writes it with a conditional UPDATE whose
 * WHERE is `status IN (sourcesOf(to))`, and an `IllegalMove` (a 409) names the entity, the move and
 * the code that asked for it:
 *
 *   const Builds = defineLifecycle("build", { queued: ["running"], running: ["succeeded"], succeeded: [] });
 *   Builds.assert("queued", "succeeded", "BuildRunner.run", "b-1");
 *   // KilnError(conflict): build b-1 cannot go from queued to succeeded (BuildRunner.run)
 *
 * A status may move to itself only when its row lists itself (a same-status write is a move too).
 */
import { KilnError } from "./errors.ts";

export class IllegalMove extends KilnError {
  constructor(
    readonly entity: string,
    readonly id: string | null,
    readonly from: string,
    readonly to: string,
    readonly where: string,
    allowed: readonly string[],
  ) {
    super(
      "conflict",
      `${entity}${id ? ` ${id}` : ""} cannot go from ${from} to ${to} (${where})`,
      allowed.length ? `from ${from} it may go to ${allowed.join(", ")}; reload it and try again` : `${from} is final`,
    );
    this.name = "IllegalMove";
  }
}

export interface Lifecycle<S extends string> {
  readonly name: string;
  /** Every status, in the table's order. */
  readonly statuses: readonly S[];
  /** The statuses `from` may move to. */
  next(from: S): readonly S[];
  can(from: S, to: S): boolean;
  /** Throws IllegalMove unless `from → to` is allowed; `where` says which code asked, `id` which row. */
  assert(from: S, to: S, where: string, id?: string): void;
  /** The error for a refused move (the store builds it after a conditional write matched no row). */
  illegal(from: S, to: S, where: string, id?: string): IllegalMove;
  /** The statuses from which `to` may be reached (the `status IN (…)` of a conditional UPDATE). */
  sourcesOf(to: S): S[];
  /** Statuses with no way out. */
  finals(): S[];
}

export function defineLifecycle<S extends string>(name: string, table: Record<S, readonly S[]>): Lifecycle<S> {
  const statuses = Object.keys(table) as S[];
  const sources = new Map<S, S[]>(statuses.map((to) => [to, statuses.filter((from) => table[from].includes(to))]));
  const can = (from: S, to: S) => Object.hasOwn(table, from) && table[from].includes(to);
  const illegal = (from: S, to: S, where: string, id?: string) =>
    new IllegalMove(name, id ?? null, from, to, where, Object.hasOwn(table, from) ? table[from] : []);
  return {
    name,
    statuses,
    next: (from) => table[from],
    can,
    assert(from, to, where, id) {
      if (!can(from, to)) throw illegal(from, to, where, id);
    },
    illegal,
    sourcesOf: (to) => [...(sources.get(to) ?? [])],
    finals: () => statuses.filter((s) => table[s].length === 0),
  };
}
