/**
 * The key stored secrets are sealed with (SecretBox): KILN_SECRET_KEY when set, otherwise
 * $KILN_DATA_DIR/secret.key, generated at first start. The file holds the 32 bytes as one line of
 * base64 text (the same form KILN_SECRET_KEY takes, so it can be moved there); 64 hex characters
 * are read too. It is created with mode 0600, and tightened to 0600 when found looser.
 * Losing the key loses every secret: back the file up (apart from the database).
 * Nothing here logs, or puts in an error, the key itself.
 */
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { KilnError } from "../../core/errors.ts";

export const SECRET_KEY_FILE = "secret.key";
const KEY_BYTES = 32;
const EXPECTED = "32 bytes as base64 (44 characters, e.g. from `openssl rand -base64 32`) or as 64 hex characters (`openssl rand -hex 32`)";

/** 32 bytes from base64 (standard or url-safe alphabet) or hex text; null when `text` is neither. */
export function parseSecretKey(text: string): Uint8Array | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return new Uint8Array(Buffer.from(t, "hex"));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const bytes = Buffer.from(t.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length === KEY_BYTES) return new Uint8Array(bytes);
  }
  return null;
}

export interface LoadSecretKeyOptions {
  dataDir: string;
  /** The value of KILN_SECRET_KEY, if set: used instead of the file. */
  fromEnv?: string;
  /** Told when the key file's mode was tightened (never given the key). */
  warn?: (message: string) => void;
}

export async function loadSecretKey(opts: LoadSecretKeyOptions): Promise<Uint8Array> {
  if (opts.fromEnv !== undefined && opts.fromEnv !== "") {
    const key = parseSecretKey(opts.fromEnv);
    if (!key) throw new KilnError("bad_request", `invalid configuration: KILN_SECRET_KEY must be ${EXPECTED}`, "set KILN_SECRET_KEY to such a value, or unset it to use $KILN_DATA_DIR/secret.key");
    return key;
  }
  const path = join(opts.dataDir, SECRET_KEY_FILE);
  const existing = await readKeyFile(path, opts.warn);
  if (existing) return existing;
  return (await createKeyFile(path)) ?? (await readKeyFile(path, opts.warn))!;
}

/** The key in `path`, null when there is no file; its mode tightened to 0600 if group or others had any bit. */
async function readKeyFile(path: string, warn?: (message: string) => void): Promise<Uint8Array | null> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new KilnError("internal", `cannot read the secret key ${path}: ${(err as Error).message}`, "check that the data directory is readable by kiln");
  }
  if (mode & 0o077) {
    await chmod(path, 0o600);
    warn?.(`the secret key ${path} was open to group or others (mode ${mode.toString(8).padStart(4, "0")}); its mode is now 0600`);
  }
  const key = parseSecretKey(await readFile(path, "utf8"));
  if (!key) {
    throw new KilnError(
      "internal",
      `the secret key ${path} is not ${EXPECTED}`,
      "restore it from a backup; if no secret was ever stored with it, delete it and Kiln makes a new one",
    );
  }
  return key;
}

/**
 * Writes a fresh key to a temporary file (`wx`, 0600) and links it into place, so the key file
 * appears whole or not at all, and never replaces one another process made meanwhile (null then).
 */
async function createKeyFile(path: string): Promise<Uint8Array | null> {
  const key = randomBytes(KEY_BYTES);
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(tmp, `${key.toString("base64")}\n`, { flag: "wx", mode: 0o600 });
  try {
    await link(tmp, path);
    return new Uint8Array(key);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return null;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
