import { expect, test } from "bun:test";
import { bindArgv, lazyUmountArgv, makePrivateArgv, makeRsharedArgv, readOnlyBindArgv, umountArgv } from "./mount-commands.ts";
import { syscallsFor } from "./syscall-exec.ts";

test("every mount-commands argv maps to mount(2)/umount2(2) calls", () => {
  expect(syscallsFor(bindArgv("/a", "/b"))).toEqual([{ call: "mount", source: "/a", target: "/b", flags: 4096n }]);
  expect(syscallsFor(readOnlyBindArgv("/a", "/b"))).toEqual([
    { call: "mount", source: "/a", target: "/b", flags: 4096n },
    { call: "mount", source: null, target: "/b", flags: 32n | 4096n | 1n },
  ]);
  expect(syscallsFor(makeRsharedArgv("/s"))).toEqual([{ call: "mount", source: null, target: "/s", flags: 16384n | (1n << 20n) }]);
  expect(syscallsFor(makePrivateArgv("/s"))).toEqual([{ call: "mount", source: null, target: "/s", flags: 1n << 18n }]);
  expect(syscallsFor(umountArgv("/s"))).toEqual([{ call: "umount2", target: "/s", flags: 0 }]);
  expect(syscallsFor(lazyUmountArgv("/s"))).toEqual([{ call: "umount2", target: "/s", flags: 2 }]);
});

test("anything else is left to the process runner", () => {
  expect(syscallsFor(["mount", "-t", "tmpfs", "--", "none", "/x"])).toBeNull();
  expect(syscallsFor(["umount", "/x"])).toBeNull();
  expect(syscallsFor(["rm", "--", "/x"])).toBeNull();
});
