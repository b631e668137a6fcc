import { describe, expect, test } from "bun:test";
import { parseLdd } from "./host-node.ts";

describe("parseLdd", () => {
  test("library paths, loader included, vdso skipped", () => {
    const out = [
      "\tlinux-vdso.so.1 (0x00007ffd8a1f2000)",
      "\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f60bd3ec000)",
      "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f60bd000000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f60bce1e000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f60bd404000)",
    ];
    expect(parseLdd(out)).toEqual([
      "/lib/x86_64-linux-gnu/libdl.so.2",
      "/lib/x86_64-linux-gnu/libstdc++.so.6",
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
  });

  test("a missing library is an error naming it", () => {
    expect(() => parseLdd(["\tlibuv.so.1 => not found"])).toThrow(/libuv\.so\.1/);
  });
});
