/**
 * The few things every Postgres repo needs, over Bun's built-in client (`Bun.SQL`): run a statement
 * written with `?` placeholders (as the shared builders in sql.ts write them), read BIGINTs back as
 * numbers, tell a unique from a foreign-key violation, and name a database without its password.
 *
 *   const row = await one<DeploymentRow>(db, "SELECT * FROM deployments WHERE id = ?", [id]);
 *
 * `Pg` is a pool or a transaction on it (`db.begin(async (tx) => …)`): the repos take either.
 */
import type { SQL } from "bun";

export type Pg = SQL;

/** `?` placeholders numbered `$1, $2, …` for Postgres. Kiln's SQL never holds a literal `?`. */
export function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

export async function rows<T>(db: Pg, text: string, params: readonly unknown[] = []): Promise<T[]> {
  return [...(await db.unsafe<T[]>(numbered(text), params as unknown[]))];
}

export async function one<T>(db: Pg, text: string, params: readonly unknown[] = []): Promise<T | null> {
  return (await rows<T>(db, text, params))[0] ?? null;
}

/** Runs a write; how many rows it touched. */
export async function run(db: Pg, text: string, params: readonly unknown[] = []): Promise<number> {
  const result = (await db.unsafe(numbered(text), params as unknown[])) as { count?: number | null };
  return Number(result.count ?? 0);
}

/**
 * Postgres sends BIGINT, COUNT and SUM as text (they may pass 2^53): these columns of `row` as
 * numbers (null stays null). Kiln's BIGINTs are epoch ms, seqs and byte counts, all below 2^53.
 */
export function ints<T extends object>(row: T, columns: readonly (keyof T)[]): T {
  const out = { ...row } as Record<keyof T, unknown>;
  for (const c of columns) {
    const v = out[c];
    if (v !== null && v !== undefined) out[c] = Number(v);
  }
  return out as T;
}

/** A transaction-scoped advisory lock: two Kilns on one database take turns (the lock goes at commit). */
export async function lockFor(tx: Pg, lockClass: number, key: string): Promise<void> {
  await tx.unsafe("SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))", [lockClass, key]);
}

/** Advisory lock classes (first key of the two-int form). */
export const LOCK = { migrations: 0x6b696c6e, logStream: 0x6b696c6f } as const;

export const UNIQUE_VIOLATION = "23505";
export const FOREIGN_KEY_VIOLATION = "23503";

/** The SQLSTATE of a failed statement and the constraint it broke, when the server sent them. */
export function pgError(err: unknown): { state?: string; constraint?: string } {
  if (!(err instanceof Error)) return {};
  const e = err as Error & { errno?: unknown; constraint?: unknown };
  return {
    ...(typeof e.errno === "string" ? { state: e.errno } : {}),
    ...(typeof e.constraint === "string" ? { constraint: e.constraint } : {}),
  };
}

/** True for a unique violation of the table's primary key (Postgres names it `<table>_pkey`). */
export function isPrimaryKeyViolation(err: unknown): boolean {
  const e = pgError(err);
  return e.state === UNIQUE_VIOLATION && (e.constraint?.endsWith("_pkey") ?? false);
}

/** postgres://user:***@host:port/db: a database URL fit for a log line or an error. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    u.search = "";
    return u.toString();
  } catch {
    return "(a database URL that does not parse)";
  }
}

/** `text` with the URL's password (and the URL itself) replaced, for an error from the client. */
export function redactIn(text: string, url: string): string {
  let out = text.split(url).join(redactDatabaseUrl(url));
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password.length > 0) out = out.split(password).join("***");
  } catch {
    // not a URL: nothing more to hide than the whole of it, done above
  }
  return out;
}
