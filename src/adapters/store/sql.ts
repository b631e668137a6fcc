/** Small SQL text builders shared by the SQLite repos. */
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
