import { describe, expect, test } from "bun:test";
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

describe("argv", () => {
  test("paths always follow --", () => {
    expect(bindArgv("/t/a/state", "/s/m1/state")).toEqual(["mount", "--bind", "--", "/t/a/state", "/s/m1/state"]);
    expect(readOnlyBindArgv("/t/a/secrets", "/st/m1-secrets")).toEqual([
      "mount", "--bind", "-o", "ro", "--", "/t/a/secrets", "/st/m1-secrets",
    ]);
    expect(makeRsharedArgv("/s")).toEqual(["mount", "--make-rshared", "--", "/s"]);
    expect(makePrivateArgv("/st")).toEqual(["mount", "--make-private", "--", "/st"]);
    expect(umountArgv("/s/m1/state")).toEqual(["umount", "--", "/s/m1/state"]);
    expect(lazyUmountArgv("/s/m1/state")).toEqual(["umount", "--lazy", "--", "/s/m1/state"]);
  });

  test("refuses relative or odd paths", () => {
    expect(() => bindArgv("-o", "/x")).toThrow("absolute");
    expect(() => bindArgv("rel/x", "/x")).toThrow("absolute");
    expect(() => umountArgv("/x\0y")).toThrow("absolute");
    expect(() => umountArgv("/x\ny")).toThrow("absolute");
  });
});

describe("classifyMountFailure (util-linux 2.38 wording)", () => {
  test.each([
    [["mount: /s/m1/state: must be superuser to use mount.", "       dmesg(1) may have more information after failed mount system call."], "not_permitted"],
    [["mount: /s/m1/state: permission denied."], "not_permitted"],
    [["umount: /s/m1/state: must be superuser to unmount."], "not_permitted"],
    [["umount: /s/m1/state: target is busy."], "busy"],
    [["umount: /s/m1/state: not mounted."], "not_mounted"],
    [["mount: /s/m1/state: special device /t/x does not exist."], "other"],
  ] as const)("%j → %s", (tail, kind) => {
    expect(classifyMountFailure(tail)).toBe(kind);
  });

  test("message: the first line that says something", () => {
    expect(mountFailureMessage(["", "mount: /x: permission denied.", "       dmesg(1) may have more information"])).toBe(
      "mount: /x: permission denied.",
    );
    expect(mountFailureMessage([])).toBe("no output");
  });
});
