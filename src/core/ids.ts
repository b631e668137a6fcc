/**
 * Ids Kiln makes itself: short random strings of lowercase letters and digits, valid as they
 * are in DNS labels, paths and container names. Names people choose are checked in names.ts.
 */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A short random id, lowercase alphanumerics (safe in DNS labels, paths and container names). */
export function newId(length = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}
