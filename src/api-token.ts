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
