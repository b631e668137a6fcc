/** Who this Kiln is: its API token and its instance id, both kept in the data dir. */
/** The API token: from config, or generated once into $KILN_DATA_DIR/api-token (mode 0600). */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

export async function resolveApiToken(dataDir: string, configured: string | undefined): Promise<{ token: string; generated: boolean; path: string }> {
  const path = join(dataDir, "api-token");
  if (configured) return { token: configured, generated: false, path };
  try {
    const existing = (await readFile(path, "utf8")).trim();
    if (existing.length >= 16) return { token: existing, generated: false, path };
  } catch {
    // not there yet
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const token = `kiln_${randomBytes(24).toString("base64url")}`;
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: "w" });
  await chmod(path, 0o600);
  return { token, generated: true, path };
}

/** This Kiln's id, generated once into $KILN_DATA_DIR/instance-id: the label of everything it creates. */
export async function resolveInstanceId(dataDir: string): Promise<string> {
  const path = join(dataDir, "instance-id");
  try {
    const existing = (await readFile(path, "utf8")).trim();
    if (/^[a-z0-9]{8,32}$/.test(existing)) return existing;
  } catch {
    // first start
  }
  const id = randomBytes(8).toString("hex");
  await writeFile(path, `${id}\n`, { mode: 0o644 });
  return id;
}
