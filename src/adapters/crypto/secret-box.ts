/**
 * Authenticated encryption of stored secrets: AES-256-GCM (node:crypto) with the secret's store key
 * as additional authenticated data, so a sealed value copied to another key, or altered, fails to open.
 *
 *   const box = new SecretBox(key32);
 *   const sealed = box.seal('{"A":"1"}', "deployment/d1/env"); // "v1:" + base64(iv | ciphertext | tag)
 *   box.open(sealed, "deployment/d1/env");                     // '{"A":"1"}'
 *
 * Errors name the secret's key, never its value nor the encryption key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KilnError } from "../../core/errors.ts";

const PREFIX = "v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const SEALED = /^v1:[A-Za-z0-9+/]+={0,2}$/;

/** What to do when a secret cannot be opened. */
export const OPEN_FAILED_HINT =
  "the secret key changed since this secret was stored (KILN_SECRET_KEY, or $KILN_DATA_DIR/secret.key when that is unset), " +
  "or the database was altered: restore the key that sealed it (from a backup), or set the secret again";

/** True when `v` has the sealed format (`v1:` + base64 of at least an IV and a tag). */
export function isSealed(v: string): boolean {
  return SEALED.test(v) && Buffer.from(v.slice(PREFIX.length), "base64").length >= IV_BYTES + TAG_BYTES;
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new KilnError("internal", `the secret key must be ${KEY_BYTES} bytes, got ${key.length}`, "generate one with `openssl rand -base64 32`");
    }
    this.#key = Buffer.from(key);
  }

  /** Encrypts `plain`, bound to `aad` (the secret's key in the store). */
  seal(plain: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64");
  }

  /** Decrypts a value `seal` made for the same `aad`; a KilnError naming `aad` when it is not one, was altered, or the key differs. */
  open(sealed: string, aad: string): string {
    if (!isSealed(sealed)) {
      throw new KilnError("internal", `secret ${aad} is not in the sealed format (v1:…) and cannot be decrypted`, OPEN_FAILED_HINT);
    }
    const raw = Buffer.from(sealed.slice(PREFIX.length), "base64");
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch {
      // The cause carries nothing useful (GCM says only "unable to authenticate"), and never the value.
      throw new KilnError("internal", `secret ${aad} cannot be decrypted: it fails authentication`, OPEN_FAILED_HINT);
    }
  }
}
