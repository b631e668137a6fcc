import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeLock, resolvePoolsNode } from "./node-lock.ts";

test("resolvePoolsNode: made once, read back by every Kiln sharing the directory, even when they start at once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-node-"));
  try {
    const ids = await Promise.all(Array.from({ length: 8 }, () => resolvePoolsNode(join(dir, "pools"))));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{12}$/);
    expect(readFileSync(join(dir, "pools", "node-id"), "utf8").trim()).toBe(ids[0]!);
    expect(await resolvePoolsNode(join(dir, "pools"))).toBe(ids[0]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("nodeLock: a fixed class, a non-negative 31-bit key that differs between nodes", () => {
  const [cls, a] = nodeLock("a1b2c3d4e5f6");
  const [, b] = nodeLock("a1b2c3d4e5f7");
  expect(cls).toBe(0x6b696c70);
  expect(a).toBeGreaterThanOrEqual(0);
  expect(a).toBeLessThan(2 ** 31);
  expect(a).not.toBe(b);
  expect(nodeLock("a1b2c3d4e5f6")[1]).toBe(a);
});

test("resolvePoolsNode: a node-id file Kiln did not write is refused, saying what to do", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-node-"));
  try {
    writeFileSync(join(dir, "node-id"), "x'; DROP TABLE pool_members; --\n");
    await expect(resolvePoolsNode(dir)).rejects.toMatchObject({ kind: "bad_request", hint: expect.stringContaining(`delete ${join(dir, "node-id")}`) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
