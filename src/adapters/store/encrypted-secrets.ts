/**
 * Secrets encrypted at rest: a SecretRepo that seals every value (SecretBox, AES-256-GCM bound to
 * the secret's key) before handing it to the repo beneath, and opens it on the way back.
 * A plaintext value left by an older Kiln is returned as is and re-written sealed on first read;
 * `sealLegacy` (run once at boot, before anything else writes secrets) seals all such rows at once.
 *
 *   const store = withEncryptedSecrets(SqliteStore.open(dbPath), new SecretBox(key));
 *   await store.secrets.sealLegacy();
 */
import { isSealed, type SecretBox } from "../crypto/secret-box.ts";
import type { SecretRepo, Store } from "../../core/ports/store.ts";

export class EncryptedSecrets implements SecretRepo {
  constructor(
    private readonly inner: SecretRepo,
    private readonly box: SecretBox,
  ) {}

  async put(key: string, value: string): Promise<void> {
    await this.inner.put(key, this.box.seal(value, key));
  }

  /** The value; a KilnError naming the key (never the value) when it cannot be opened. */
  async get(key: string): Promise<string | null> {
    const stored = await this.inner.get(key);
    if (stored === null) return null;
    if (isSealed(stored)) return this.box.open(stored, key);
    await this.inner.put(key, this.box.seal(stored, key)); // legacy plaintext: seal it now
    return stored;
  }

  async deletePrefix(prefix: string): Promise<void> {
    await this.inner.deletePrefix(prefix);
  }

  async list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  /** Seals every row still in plaintext; how many it sealed. */
  async sealLegacy(): Promise<number> {
    let sealed = 0;
    for (const key of await this.inner.list("")) {
      const stored = await this.inner.get(key);
      if (stored === null || isSealed(stored)) continue;
      await this.inner.put(key, this.box.seal(stored, key));
      sealed++;
    }
    return sealed;
  }
}

/**
 * `store` with its secrets encrypted: every other member (repos, close, and any added to Store later)
 * is the original's, through a Proxy, so this need not change when Store grows.
 */
export function withEncryptedSecrets<S extends Store>(store: S, box: SecretBox): S & { secrets: EncryptedSecrets } {
  const secrets = new EncryptedSecrets(store.secrets, box);
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "secrets") return secrets;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as S & { secrets: EncryptedSecrets };
}
