/**
 * Uploads kept in Postgres for every Kiln (src/adapters/store/postgres-uploads.ts), on a real
 * database: a file of several parts comes back byte for byte; an upload not kept is `false`; a part
 * damaged in the database is refused (nothing written where the file belongs); delete and list.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PgUploads } from "../../src/adapters/store/postgres-uploads.ts";
import { usePostgres } from "../helpers/use-postgres.ts";

const pg = usePostgres({ schema: true }); // the tables (migration 14)
let db: SQL;
const dir = mkdtempSync(join(tmpdir(), "kiln-pg-uploads-"));

beforeAll(() => {
  db = new SQL(pg.url(), { max: 2 });
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("an upload of several parts comes back byte for byte; list and delete", async () => {
  const uploads = new PgUploads(db);
  const bytes = randomBytes(9 * 1024 * 1024 + 123); // three parts of at most 4 MiB
  writeFileSync(join(dir, "in.tar"), bytes);
  await uploads.put("u1", join(dir, "in.tar"));
  const [parts] = await db.unsafe<{ n: string }[]>("SELECT count(*) AS n FROM kiln_upload_parts WHERE upload_id = 'u1'");
  expect(Number(parts!.n)).toBe(3);
  expect(await uploads.fetchTo("u1", join(dir, "out.tar"))).toBe(true);
  expect(Buffer.compare(readFileSync(join(dir, "out.tar")), bytes)).toBe(0);
  expect((await uploads.list()).map((u) => u.uploadId)).toEqual(["u1"]);

  // Put again (a retry): one copy, not two.
  await uploads.put("u1", join(dir, "in.tar"));
  const [again] = await db.unsafe<{ n: string }[]>("SELECT count(*) AS n FROM kiln_upload_parts WHERE upload_id = 'u1'");
  expect(Number(again!.n)).toBe(3);

  await uploads.delete("u1");
  expect(await uploads.list()).toEqual([]);
  expect(await uploads.fetchTo("u1", join(dir, "gone.tar"))).toBe(false);
  expect(existsSync(join(dir, "gone.tar"))).toBe(false);
});

test("a part damaged in the database is refused, and nothing is left where the file belongs", async () => {
  const uploads = new PgUploads(db);
  writeFileSync(join(dir, "in2.tar"), randomBytes(5 * 1024 * 1024));
  await uploads.put("u2", join(dir, "in2.tar"));
  await db.unsafe("UPDATE kiln_upload_parts SET data = $1 WHERE upload_id = 'u2' AND part = 1", [Buffer.from("damaged")]);
  const sub = mkdtempSync(join(dir, "fetch-"));
  await expect(uploads.fetchTo("u2", join(sub, "out.tar"))).rejects.toThrow("does not match");
  expect(readdirSync(sub)).toEqual([]);
});
