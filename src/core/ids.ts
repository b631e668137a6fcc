import { badRequest } from "./errors.ts";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A short random id, lowercase alphanumerics (safe in DNS labels, paths and container names). */
export function newId(length = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** Deployment names are DNS labels: lowercase letters, digits, '-', 1–40 chars, no leading/trailing '-'. */
export function validateName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw badRequest(
      `invalid name ${JSON.stringify(name.slice(0, 60))}`,
      "use 1–40 lowercase letters, digits or '-', starting and ending with a letter or digit",
    );
  }
  return name;
}

const ADJECTIVES = ["amber", "brisk", "calm", "dusty", "eager", "fuzzy", "gentle", "hazy", "ivory", "jolly", "keen", "lucky", "misty", "noble", "olive", "proud", "quiet", "rapid", "sunny", "tidy"];
const NOUNS = ["otter", "falcon", "cedar", "comet", "harbor", "meadow", "pebble", "quartz", "river", "spruce", "tundra", "willow", "ember", "glacier", "lagoon", "maple"];

export function generateName(): string {
  const pick = (xs: string[]) => xs[Math.floor(Math.random() * xs.length)]!;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${newId(4)}`;
}
