/** Small SQL text builders shared by the SQL stores (SQLite; Postgres numbers the `?`s, postgres-sql.ts). */
import type { Lifecycle } from "../../core/lifecycle.ts";
import type { SqlValue } from "./rows.ts";

export function insertSql(table: string, cols: ReadonlyArray<[string, SqlValue]>): string {
  return `INSERT INTO ${table} (${cols.map(([c]) => c).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`;
}

export function setClause(cols: ReadonlyArray<[string, SqlValue]>): string {
  return cols.map(([c]) => `${c} = ?`).join(", ");
}

export function values(cols: ReadonlyArray<[string, SqlValue]>): SqlValue[] {
  return cols.map(([, v]) => v);
}

/**
 * The WHERE part that lets a status write happen only from a status its lifecycle allows:
 * ` AND status IN (?, …)` with the sources of `to`, or nothing when the write sets no status.
 */
export function statusGuard<S extends string>(lifecycle: Lifecycle<S>, to: S | undefined, column = "status"): { sql: string; params: S[] } {
  if (to === undefined) return { sql: "", params: [] };
  const from = lifecycle.sourcesOf(to);
  if (from.length === 0) return { sql: " AND 1 = 0", params: [] }; // portable: Postgres has no integer truth
  return { sql: ` AND ${column} IN (${from.map(() => "?").join(", ")})`, params: from };
}

/** SQLite's error code (e.g. SQLITE_CONSTRAINT_UNIQUE) of a failed statement, if it has one. */
export function sqliteCode(err: unknown): string | undefined {
  if (err instanceof Error && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}
