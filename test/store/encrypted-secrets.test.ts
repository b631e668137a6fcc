/** Secrets at rest: through the wrapper, a real SQLite file never holds a secret's value in the clear. */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import { SecretBox } from "../../src/adapters/crypto/secret-box.ts";
import { loadSecretKey } from "../../src/adapters/crypto/secret-key.ts";
import { withEncryptedSecrets } from "../../src/adapters/store/encrypted-secrets.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-enc-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The database file and its WAL and shared-memory files, as they are on disk now. */
function onDisk(dbPath: string): Buffer {
  return Buffer.concat([dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter(existsSync).map((p) => readFileSync(p)));
}

test("a secret put through the wrapper is not in the database files; reopened, it reads back", async () => {
  const dbPath = join(dir, "a.db");
  const value = '{"DATABASE_URL":"postgres://u:Zebra-Quokka-7731@db/app"}';
  const box = new SecretBox(await loadSecretKey({ dataDir: dir }));

  const first = withEncryptedSecrets(SqliteStore.open(dbPath), box);
  await first.secrets.put("deployment/d1/env", value);
  expect(onDisk(dbPath).includes("Zebra-Quokka-7731")).toBe(false); // WAL still there, before close
  await first.close();
  expect(onDisk(dbPath).includes("Zebra-Quokka-7731")).toBe(false);
  expect(readFileSync(dbPath).length).toBeGreaterThan(0);

  // a new box from the same key file, as after a restart
  const again = withEncryptedSecrets(SqliteStore.open(dbPath), new SecretBox(await loadSecretKey({ dataDir: dir })));
  expect(await again.secrets.get("deployment/d1/env")).toBe(value);
  expect(await again.secrets.list("deployment/")).toEqual(["deployment/d1/env"]);
  await again.close();
});

test("legacy plaintext rows are sealed by sealLegacy and no longer readable in the file", async () => {
  const dbPath = join(dir, "b.db");
  await SqliteStore.open(dbPath).close();
  // an older Kiln wrote these rows in plaintext: a small one, and one big enough for overflow pages
  const small = "ghp_Legacy-Pangolin-9902";
  const big = JSON.stringify(Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`VAR_${i}`, `Okapi-Marmot-${i}-value`])));
  const raw = new Database(dbPath);
  raw.query("INSERT INTO secrets (key, value) VALUES (?, ?)").run("deployment/d2/git-token", small);
  raw.query("INSERT INTO secrets (key, value) VALUES (?, ?)").run("deployment/d2/env", big);
  raw.close();
  expect(onDisk(dbPath).includes("Legacy-Pangolin")).toBe(true);
  expect(onDisk(dbPath).includes("Okapi-Marmot-399")).toBe(true);

  const box = new SecretBox(await loadSecretKey({ dataDir: dir }));
  const store = withEncryptedSecrets(SqliteStore.open(dbPath), box);
  expect(await store.secrets.sealLegacy()).toBe(2);
  expect(await store.secrets.sealLegacy()).toBe(0);
  await store.close();
  const bytes = onDisk(dbPath);
  expect(bytes.includes("Legacy-Pangolin")).toBe(false);
  expect(bytes.includes("Okapi-Marmot")).toBe(false);

  const reopened = withEncryptedSecrets(SqliteStore.open(dbPath), box);
  expect(await reopened.secrets.get("deployment/d2/git-token")).toBe(small);
  expect(await reopened.secrets.get("deployment/d2/env")).toBe(big);
  await reopened.close();
});
