/** Domains and webhook deliveries in Postgres (migration 6). Both go with their deployment (cascade). */
import type { Domain } from "../../core/domains.ts";
import { conflict, notFound } from "../../core/errors.ts";
import type { DeliveryRepo, DomainRepo } from "../../core/ports/store.ts";
import { FOREIGN_KEY_VIOLATION, isPrimaryKeyViolation, one, pgError, rows, run, type Pg } from "./postgres-sql.ts";

interface DomainRow {
  host: string;
  deployment_id: string;
  created_at: number;
}

const toDomain = (r: DomainRow): Domain => ({ host: r.host, deploymentId: r.deployment_id, createdAt: Number(r.created_at) });

export class PgDomains implements DomainRepo {
  constructor(private readonly db: Pg) {}

  /** One INSERT: a host another deployment holds (now, or by a racing add) is a conflict; the same deployment again, a no-op. */
  async add(d: Domain): Promise<void> {
    try {
      const inserted = await run(this.db, "INSERT INTO domains (host, deployment_id, created_at) VALUES (?, ?, ?) ON CONFLICT (host) DO NOTHING", [d.host, d.deploymentId, d.createdAt]);
      if (inserted === 1) return;
    } catch (err) {
      if (pgError(err).state === FOREIGN_KEY_VIOLATION) throw notFound(`deployment ${d.deploymentId} not found`);
      if (isPrimaryKeyViolation(err)) throw conflict(`${d.host} is already attached to another app`, "remove it from that app first");
      throw err;
    }
    const existing = await this.get(d.host);
    if (existing && existing.deploymentId === d.deploymentId) return;
    throw conflict(`${d.host} is already attached to another app`, "remove it from that app first (DELETE …/domains/<host>)");
  }

  async get(host: string): Promise<Domain | null> {
    const row = await one<DomainRow>(this.db, "SELECT * FROM domains WHERE host = ?", [host]);
    return row ? toDomain(row) : null;
  }

  async listFor(deploymentId: string): Promise<Domain[]> {
    return (await rows<DomainRow>(this.db, `SELECT * FROM domains WHERE deployment_id = ? ORDER BY host COLLATE "C"`, [deploymentId])).map(toDomain);
  }

  async all(): Promise<Domain[]> {
    return (await rows<DomainRow>(this.db, `SELECT * FROM domains ORDER BY host COLLATE "C"`)).map(toDomain);
  }

  async remove(host: string): Promise<void> {
    await run(this.db, "DELETE FROM domains WHERE host = ?", [host]);
  }
}

export class PgDeliveries implements DeliveryRepo {
  constructor(private readonly db: Pg) {}

  async record(deploymentId: string, deliveryId: string, now: number): Promise<boolean> {
    return (await run(this.db, "INSERT INTO webhook_deliveries (deployment_id, delivery_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [deploymentId, deliveryId, now])) === 1;
  }

  async prune(before: number): Promise<void> {
    await run(this.db, "DELETE FROM webhook_deliveries WHERE received_at < ?", [before]);
  }
}
