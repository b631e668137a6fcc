import { describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { paxRecord } from "./encode.ts";
import { readTarEntries } from "./reader.ts";
import { encodeTar } from "./writer.ts";

describe("encodeTar", () => {
  test("long paths and link targets survive (ustar prefix and pax)", async () => {
    const medium = `${"d".repeat(80)}/${"e".repeat(60)}/file.txt`; // > 100 bytes, splits into prefix
    const long = `${"a/".repeat(150)}file.txt`; // > 255 bytes: pax path
    const longTarget = `${"../".repeat(10)}${"t".repeat(120)}`;
    const tar = encodeTar([
      { path: medium, type: "file", data: "m" },
      { path: long, type: "file", data: "l" },
      { path: "link", type: "symlink", linkname: longTarget },
      { path: "ünïcødé.txt", type: "file", data: "u" },
    ]);
    const entries = await readTarEntries(tar);
    expect(entries.map((e) => e.entry.path)).toEqual([medium, long, "link", "ünïcødé.txt"]);
    expect(entries[2]!.entry.linkname).toBe(longTarget);

    const file = join(tmpdir(), `kiln-tarw-long-${process.pid}.tar`);
    writeFileSync(file, tar);
    try {
      const r = Bun.spawnSync(["tar", "-tf", file]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.toString().split("\n")).toContain(long);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

test("a pax record's length counts itself", () => {
  expect(paxRecord("path", "abc")).toBe("12 path=abc\n");
  const r = paxRecord("path", "y".repeat(93)); // 100 bytes without the length, 103 with it
  expect(r.startsWith("103 ")).toBe(true);
  expect(new TextEncoder().encode(r).length).toBe(103);
});
