import { describe, expect, test } from "bun:test";
import { KilnError } from "./errors.ts";
import { defineLifecycle, IllegalMove } from "./lifecycle.ts";

const door = defineLifecycle<"open" | "closed" | "locked" | "gone">("door", {
  open: ["closed", "gone"],
  closed: ["open", "locked", "closed", "gone"],
  locked: ["closed", "gone"],
  gone: [],
});

describe("defineLifecycle", () => {
  test("can follows the table, a same-status move only where listed", () => {
    expect(door.can("open", "closed")).toBe(true);
    expect(door.can("closed", "closed")).toBe(true);
    expect(door.can("open", "open")).toBe(false);
    expect(door.can("open", "locked")).toBe(false);
    expect(door.can("gone", "open")).toBe(false);
  });

  test("sourcesOf lists the statuses a status may be reached from, in table order", () => {
    expect(door.sourcesOf("closed")).toEqual(["open", "closed", "locked"]);
    expect(door.sourcesOf("locked")).toEqual(["closed"]);
    expect(door.sourcesOf("gone")).toEqual(["open", "closed", "locked"]);
    expect(door.sourcesOf("open")).toEqual(["closed"]);
  });

  test("statuses, next and finals", () => {
    expect(door.statuses).toEqual(["open", "closed", "locked", "gone"]);
    expect(door.next("locked")).toEqual(["closed", "gone"]);
    expect(door.finals()).toEqual(["gone"]);
  });

  test("assert throws an IllegalMove: a conflict naming the entity, the move and where", () => {
    expect(() => door.assert("open", "closed", "test")).not.toThrow();
    let err: unknown;
    try {
      door.assert("open", "locked", "Porter.lock", "d-1");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IllegalMove);
    expect(err).toBeInstanceOf(KilnError);
    const move = err as IllegalMove;
    expect(move.kind).toBe("conflict");
    expect(move.message).toBe("door d-1 cannot go from open to locked (Porter.lock)");
    expect(move.hint).toBe("from open it may go to closed, gone; reload it and try again");
    expect([move.entity, move.id, move.from, move.to, move.where]).toEqual(["door", "d-1", "open", "locked", "Porter.lock"]);
  });

  test("illegal builds the same error without an id, and says when the status is final", () => {
    const err = door.illegal("gone", "open", "somewhere");
    expect(err.message).toBe("door cannot go from gone to open (somewhere)");
    expect(err.hint).toBe("gone is final");
  });
});
