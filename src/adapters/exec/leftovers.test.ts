import { expect, test } from "bun:test";
import { carriesMarker, killLeftoverCommands, OWNER_VAR, withOwnerMarker } from "./leftovers.ts";
import { run } from "./run.ts";

test("the marker is matched whole, not as a prefix of another instance's", () => {
  expect(carriesMarker(`PATH=/bin\0${OWNER_VAR}=abc\0`, "abc")).toBe(true);
  expect(carriesMarker(`${OWNER_VAR}=abcdef\0`, "abc")).toBe(false);
  expect(carriesMarker(`X=${OWNER_VAR}=abc\0`, "abc")).toBe(false);
  expect(withOwnerMarker({ PATH: "/bin" }, "abc")).toEqual({ PATH: "/bin", [OWNER_VAR]: "abc" });
});

test("a command left running with this instance's marker is killed; another instance's is not", async () => {
  const mine = `test${Date.now().toString(36)}`;
  const other = `${mine}x`;
  const spawn = (id: string) => Bun.spawn(["sleep", "60"], { env: withOwnerMarker({ PATH: process.env.PATH ?? "/usr/bin:/bin" }, id) });
  const a = spawn(mine);
  const b = spawn(other);
  try {
    const killed = await killLeftoverCommands(mine);
    expect(killed).toEqual([a.pid]);
    expect(await a.exited).not.toBe(0);
    expect(b.killed).toBe(false);
    expect(await killLeftoverCommands(mine)).toEqual([]);
  } finally {
    b.kill();
    a.kill();
  }
});

test("run() hands the marker down when it is in the base env", async () => {
  const res = await run({ argv: ["env"] }, { baseEnv: withOwnerMarker({ PATH: process.env.PATH ?? "/usr/bin:/bin" }, "m1") });
  expect(res.tail).toContain(`${OWNER_VAR}=m1`);
});
