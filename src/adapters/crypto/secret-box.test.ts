import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { KilnError } from "../../core/errors.ts";
import { isSealed, SecretBox } from "./secret-box.ts";

const VALUE = '{"STRIPE_KEY":"sk_live_very_distinctive_4242"}';
const AAD = "deployment/d1/env";
const key = () => new Uint8Array(randomBytes(32));

function failure(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    return err as KilnError;
  }
  throw new Error("expected a KilnError");
}

function expectOpenFailure(err: KilnError) {
  expect(err.message).toContain(AAD);
  expect(err.message).not.toContain("sk_live");
  expect(err.hint).toContain("KILN_SECRET_KEY");
  expect(err.hint).toContain("$KILN_DATA_DIR/secret.key");
  expect(err.hint).toContain("database was altered");
}

describe("SecretBox", () => {
  test("round trip: seal then open gives the value back, in the v1 format", () => {
    const box = new SecretBox(key());
    const sealed = box.seal(VALUE, AAD);
    expect(sealed).toStartWith("v1:");
    expect(sealed).not.toContain("sk_live");
    // 12-byte IV + ciphertext (same length as the UTF-8 plaintext) + 16-byte tag
    expect(Buffer.from(sealed.slice(3), "base64").length).toBe(12 + Buffer.byteLength(VALUE) + 16);
    expect(isSealed(sealed)).toBe(true);
    expect(box.open(sealed, AAD)).toBe(VALUE);
    expect(box.open(box.seal("", AAD), AAD)).toBe("");
    expect(box.open(box.seal("ünïcødé ✓", AAD), AAD)).toBe("ünïcødé ✓");
  });

  test("each seal uses a fresh IV", () => {
    const box = new SecretBox(key());
    expect(box.seal(VALUE, AAD)).not.toBe(box.seal(VALUE, AAD));
  });

  test("a tampered value fails with a KilnError naming the key, not the value", () => {
    const box = new SecretBox(key());
    const raw = Buffer.from(box.seal(VALUE, AAD).slice(3), "base64");
    for (const at of [0, 12, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[at]! ^= 0x01;
      expectOpenFailure(failure(() => box.open(`v1:${bad.toString("base64")}`, AAD)));
    }
    expectOpenFailure(failure(() => box.open(`v1:${raw.subarray(0, raw.length - 1).toString("base64")}`, AAD)));
  });

  test("the wrong key fails", () => {
    const sealed = new SecretBox(key()).seal(VALUE, AAD);
    expectOpenFailure(failure(() => new SecretBox(key()).open(sealed, AAD)));
  });

  test("the wrong AAD (a value moved to another secret's key) fails", () => {
    const box = new SecretBox(key());
    const sealed = box.seal(VALUE, AAD);
    const err = failure(() => box.open(sealed, "deployment/d2/env"));
    expect(err.message).toContain("deployment/d2/env");
    expect(err.message).not.toContain("sk_live");
  });

  test("a value not in the sealed format is refused by open", () => {
    expectOpenFailure(failure(() => new SecretBox(key()).open(VALUE, AAD)));
  });

  test("isSealed: only v1: followed by base64 of at least IV and tag", () => {
    expect(isSealed(VALUE)).toBe(false);
    expect(isSealed("v1:")).toBe(false);
    expect(isSealed("v1:abc")).toBe(false);
    expect(isSealed("v1:not base64 at all!!")).toBe(false);
    expect(isSealed(`v1:${Buffer.alloc(28).toString("base64")}`)).toBe(true);
  });

  test("a key that is not 32 bytes is refused", () => {
    expect(() => new SecretBox(new Uint8Array(16))).toThrow(/32 bytes/);
  });
});
