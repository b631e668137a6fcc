/**
 * Shared uploads in Postgres (core/ports/uploads.ts): a tarball in parts of PART_BYTES in
 * `kiln_upload_parts`, its index row (`kiln_uploads`: size, parts, sha256) written in the same
 * transaction, so an upload is there whole or not at all. Fetching checks size and digest before the
 * file is renamed into place.
 */
import type { SQL } from "bun";
import { createHash, randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { KilnError } from "../../core/errors.ts";
import type { SharedUploads } from "../../core/ports/uploads.ts";

const PART_BYTES = 4 * 1024 * 1024;

export class PgUploads implements SharedUploads {
  constructor(private readonly db: SQL) {}

  async put(uploadId: string, file: string): Promise<void> {
    const fh = await open(file, "r");
    try {
      const hash = createHash("sha256");
      await this.db.begin(async (tx) => {
        await tx.unsafe("DELETE FROM kiln_upload_parts WHERE upload_id = $1", [uploadId]);
        await tx.unsafe("DELETE FROM kiln_uploads WHERE upload_id = $1", [uploadId]);
        let part = 0;
        let bytes = 0;
        for (;;) {
          const buf = Buffer.alloc(PART_BYTES);
          const { bytesRead } = await fh.read(buf, 0, PART_BYTES, bytes);
          if (bytesRead === 0) break;
          const data = buf.subarray(0, bytesRead);
          hash.update(data);
          await tx.unsafe("INSERT INTO kiln_upload_parts (upload_id, part, data) VALUES ($1, $2, $3)", [uploadId, part++, data]);
          bytes += bytesRead;
        }
        await tx.unsafe("INSERT INTO kiln_uploads (upload_id, bytes, parts, sha256, created_at) VALUES ($1, $2, $3, $4, $5)", [uploadId, bytes, part, hash.digest("hex"), Date.now()]);
      });
    } finally {
      await fh.close();
    }
  }

  async fetchTo(uploadId: string, dest: string): Promise<boolean> {
    const [index] = await this.db.unsafe<{ bytes: string; parts: number; sha256: string }[]>("SELECT bytes, parts, sha256 FROM kiln_uploads WHERE upload_id = $1", [uploadId]);
    if (!index) return false;
    const aside = `${dest}.${randomBytes(4).toString("hex")}.part`;
    const fh = await open(aside, "w", 0o600);
    try {
      const hash = createHash("sha256");
      let bytes = 0;
      for (let part = 0; part < index.parts; part++) {
        const [row] = await this.db.unsafe<{ data: Uint8Array }[]>("SELECT data FROM kiln_upload_parts WHERE upload_id = $1 AND part = $2", [uploadId, part]);
        if (!row) throw new KilnError("unavailable", `upload ${uploadId} lacks its part ${part} in the database`);
        hash.update(row.data);
        await fh.write(row.data);
        bytes += row.data.length;
      }
      await fh.close();
      if (bytes !== Number(index.bytes) || hash.digest("hex") !== index.sha256) {
        throw new KilnError("unavailable", `upload ${uploadId} read back from the database does not match what was stored`);
      }
      await rename(aside, dest);
      return true;
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(aside, { force: true });
      throw err;
    }
  }

  async delete(uploadId: string): Promise<void> {
    await this.db.begin(async (tx) => {
      await tx.unsafe("DELETE FROM kiln_uploads WHERE upload_id = $1", [uploadId]);
      await tx.unsafe("DELETE FROM kiln_upload_parts WHERE upload_id = $1", [uploadId]);
    });
  }

  async list(): Promise<{ uploadId: string; createdAt: number }[]> {
    const rows = await this.db.unsafe<{ upload_id: string; created_at: string }[]>("SELECT upload_id, created_at FROM kiln_uploads ORDER BY created_at");
    return rows.map((r) => ({ uploadId: r.upload_id, createdAt: Number(r.created_at) }));
  }
}
