import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { KilnError } from "../../core/errors.ts";
import { loadSecretKey, parseSecretKey } from "./secret-key.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-secret-key-"));
let n = 0;
const freshDir = () => join(root, `d${n++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("loadSecretKey", () => {
  test("KILN_SECRET_KEY as base64 (standard or url-safe) gives its 32 bytes", async () => {
    const bytes = randomBytes(32);
    expect(Buffer.from(await loadSecretKey({ dataDir: freshDir(), fromEnv: bytes.toString("base64") }))).toEqual(bytes);
    expect(Buffer.from(await loadSecretKey({ dataDir: freshDir(), fromEnv: `${bytes.toString("base64url")}\n` }))).toEqual(bytes);
  });

  test("KILN_SECRET_KEY as 64 hex characters gives its 32 bytes, and no file is written", async () => {
    const bytes = randomBytes(32);
    const dir = freshDir();
    expect(Buffer.from(await loadSecretKey({ dataDir: dir, fromEnv: bytes.toString("hex").toUpperCase() }))).toEqual(bytes);
    expect(() => statSync(join(dir, "secret.key"))).toThrow();
  });

  test("a malformed KILN_SECRET_KEY says what format is expected, without echoing the value", async () => {
    for (const bad of ["hunter2-not-a-key", randomBytes(16).toString("base64"), randomBytes(31).toString("hex"), randomBytes(33).toString("base64")]) {
      const err = await loadSecretKey({ dataDir: freshDir(), fromEnv: bad }).catch((e) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect(err.kind).toBe("bad_request");
      expect(err.message).toContain("KILN_SECRET_KEY must be 32 bytes as base64");
      expect(err.message).toContain("64 hex characters");
      expect(err.message).toContain("openssl rand -base64 32");
      expect(err.message).not.toContain(bad);
    }
  });

  test("without KILN_SECRET_KEY, secret.key is created with mode 0600 as base64 text, and read back the same", async () => {
    const dir = freshDir();
    const warnings: string[] = [];
    const first = await loadSecretKey({ dataDir: dir, warn: (m) => warnings.push(m) });
    const path = join(dir, "secret.key");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.length).toBe(32);
    expect(readFileSync(path, "utf8")).toBe(`${Buffer.from(first).toString("base64")}\n`);
    expect(Buffer.from(await loadSecretKey({ dataDir: dir }))).toEqual(Buffer.from(first));
    expect(warnings).toEqual([]);
  });

  test("concurrent first starts agree on one key", async () => {
    const dir = freshDir();
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadSecretKey({ dataDir: dir })));
    for (const k of keys) expect(Buffer.from(k)).toEqual(Buffer.from(keys[0]!));
    expect(parseSecretKey(readFileSync(join(dir, "secret.key"), "utf8"))).toEqual(keys[0]!);
  });

  test("a key file readable by group or others is chmod-ed to 0600, with a warning that does not carry the key", async () => {
    const dir = freshDir();
    const key = await loadSecretKey({ dataDir: dir });
    const path = join(dir, "secret.key");
    chmodSync(path, 0o644);
    const warnings: string[] = [];
    expect(Buffer.from(await loadSecretKey({ dataDir: dir, warn: (m) => warnings.push(m) }))).toEqual(Buffer.from(key));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
    expect(warnings[0]).toContain("0644");
    expect(warnings[0]).toContain("0600");
    expect(warnings[0]).not.toContain(Buffer.from(key).toString("base64"));
  });

  test("a key file that is not a key is reported with what to do", async () => {
    const dir = freshDir();
    await loadSecretKey({ dataDir: dir });
    writeFileSync(join(dir, "secret.key"), "garbage\n", { mode: 0o600 });
    const err = await loadSecretKey({ dataDir: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect(err.message).toContain("secret.key is not 32 bytes as base64");
    expect(err.hint).toContain("restore it from a backup");
  });
});
