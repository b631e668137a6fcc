/** The event decoder against lines captured from Docker 20.10 (testdata/events.jsonl: a labelled container started, healthy, killed, removed; another exiting 3). */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeEngineEvent } from "./events-decode.ts";

const lines = readFileSync(join(import.meta.dir, "testdata/events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as unknown);
const A = "0215ce6fa1e32d7e85b73e60eca0e4ef27260cd398cc5de390c042b20b6f70f2";
const B = "12cd057366710505e142b052725048b60814bd35ba6f1733960672d24b70b425";
const labels = { "kiln.base": "node", "kiln.base.version": "v20.20.2", "kiln.capture": "true", "kiln.managed": "true" };

describe("decodeEngineEvent", () => {
  test("captured lines: create, start, exec (skipped), health, kill, die with exit code, destroy", () => {
    expect(lines.map(decodeEngineEvent)).toEqual([
      { kind: "container", action: "create", containerId: A, labels, at: 1796140683475 },
      { kind: "container", action: "start", containerId: A, labels, at: 1796140683672 },
      null,
      { kind: "container", action: "health", health: "healthy", containerId: A, labels, at: 1796140684705 },
      { kind: "container", action: "kill", containerId: A, labels, at: 1796140686702 },
      { kind: "container", action: "die", exitCode: 137, containerId: A, labels, at: 1796140686720 },
      { kind: "container", action: "destroy", containerId: A, labels, at: 1796140688046 },
      { kind: "container", action: "die", exitCode: 3, containerId: B, labels, at: 1796140688296 },
    ]);
  });

  test("what Kiln does not follow is null", () => {
    expect(decodeEngineEvent({ Type: "network", Action: "connect", Actor: { ID: "n1", Attributes: {} } })).toBeNull();
    expect(decodeEngineEvent({ Type: "container", Action: "rename", Actor: { ID: "c1", Attributes: {} } })).toBeNull();
    expect(decodeEngineEvent({ Type: "container", Action: "health_status: bogus", Actor: { ID: "c1" } })).toBeNull();
    expect(decodeEngineEvent({ Type: "container", Action: "start", Actor: {} })).toBeNull();
    for (const junk of [null, 3, "start", [], {}]) expect(decodeEngineEvent(junk)).toBeNull();
  });

  test("a die without a readable exit code has none; time falls back to seconds", () => {
    expect(decodeEngineEvent({ Type: "container", Action: "die", time: 5, Actor: { ID: "c1", Attributes: { exitCode: "x", "kiln.kind": "app" } } })).toEqual({
      kind: "container",
      action: "die",
      containerId: "c1",
      labels: { "kiln.kind": "app" },
      at: 5000,
    });
  });
});
