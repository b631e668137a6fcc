import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { SecretRepo, Store } from "../../core/ports/store.ts";
import { KilnError } from "../../core/errors.ts";
import { isSealed, SecretBox } from "../crypto/secret-box.ts";
import { EncryptedSecrets, withEncryptedSecrets } from "./encrypted-secrets.ts";

/** A SecretRepo over a Map: what the wrapper writes beneath is visible to the test. */
class MapSecrets implements SecretRepo {
  readonly rows = new Map<string, string>();
  async put(key: string, value: string) {
    this.rows.set(key, value);
  }
  async get(key: string) {
    return this.rows.get(key) ?? null;
  }
  async deletePrefix(prefix: string) {
    for (const k of [...this.rows.keys()]) if (k.startsWith(prefix)) this.rows.delete(k);
  }
  async list(prefix: string) {
    return [...this.rows.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

const box = () => new SecretBox(new Uint8Array(randomBytes(32)));

test("put stores the value sealed beneath; get opens it", async () => {
  const inner = new MapSecrets();
  const secrets = new EncryptedSecrets(inner, box());
  await secrets.put("deployment/a/git-token", "ghp_distinctive_token_123");
  const stored = inner.rows.get("deployment/a/git-token")!;
  expect(isSealed(stored)).toBe(true);
  expect(stored).not.toContain("ghp_distinctive");
  expect(await secrets.get("deployment/a/git-token")).toBe("ghp_distinctive_token_123");
  expect(await secrets.get("deployment/a/env")).toBeNull();
});

test("a legacy plaintext value is returned by get and re-written sealed", async () => {
  const inner = new MapSecrets();
  inner.rows.set("deployment/a/env", '{"A":"1"}');
  const secrets = new EncryptedSecrets(inner, box());
  expect(await secrets.get("deployment/a/env")).toBe('{"A":"1"}');
  expect(isSealed(inner.rows.get("deployment/a/env")!)).toBe(true);
  expect(await secrets.get("deployment/a/env")).toBe('{"A":"1"}');
});

test("a value swapped to another key beneath fails to open, naming the key", async () => {
  const inner = new MapSecrets();
  const secrets = new EncryptedSecrets(inner, box());
  await secrets.put("deployment/a/env", '{"SECRET":"value-a"}');
  inner.rows.set("deployment/b/env", inner.rows.get("deployment/a/env")!);
  const err = await secrets.get("deployment/b/env").catch((e) => e);
  expect(err).toBeInstanceOf(KilnError);
  expect(err.message).toContain("deployment/b/env");
  expect(err.message).not.toContain("value-a");
});

test("sealLegacy seals every plaintext row, leaves sealed ones, and counts", async () => {
  const inner = new MapSecrets();
  const secrets = new EncryptedSecrets(inner, box());
  await secrets.put("deployment/a/env", "already sealed");
  inner.rows.set("deployment/b/env", "plain b");
  inner.rows.set("deployment/c/git-token", "plain c");
  const before = inner.rows.get("deployment/a/env");
  expect(await secrets.sealLegacy()).toBe(2);
  expect(inner.rows.get("deployment/a/env")).toBe(before!);
  expect([...inner.rows.values()].every(isSealed)).toBe(true);
  expect(await secrets.get("deployment/b/env")).toBe("plain b");
  expect(await secrets.get("deployment/c/git-token")).toBe("plain c");
  expect(await secrets.sealLegacy()).toBe(0);
});

test("list and deletePrefix pass through", async () => {
  const inner = new MapSecrets();
  const secrets = new EncryptedSecrets(inner, box());
  for (const k of ["deployment/a/env", "deployment/a/git-token", "deployment/ab/env"]) await secrets.put(k, k);
  expect(await secrets.list("deployment/a/")).toEqual(["deployment/a/env", "deployment/a/git-token"]);
  await secrets.deletePrefix("deployment/a/");
  expect(await secrets.list("")).toEqual(["deployment/ab/env"]);
});

test("withEncryptedSecrets keeps every other repo and close, and swaps secrets", async () => {
  let closed = 0;
  const inner = new MapSecrets();
  const store = { pools: {}, deployments: {}, builds: {}, logs: {}, secrets: inner, close: async () => void closed++ } as unknown as Store;
  const wrapped = withEncryptedSecrets(store, box());
  expect(wrapped.deployments).toBe(store.deployments);
  expect(wrapped.builds).toBe(store.builds);
  expect(wrapped.logs).toBe(store.logs);
  expect(wrapped.pools).toBe(store.pools);
  expect(wrapped.secrets).toBeInstanceOf(EncryptedSecrets);
  await wrapped.secrets.put("k", "v");
  expect(isSealed(inner.rows.get("k")!)).toBe(true);
  await wrapped.close();
  expect(closed).toBe(1);
});
