/** Domains and webhook deliveries in SQLite (migration 6). Both go with their deployment (cascade). */
import type { Database } from "bun:sqlite";
import { conflict, notFound } from "../../core/errors.ts";
import type { Domain } from "../../core/domains.ts";
import type { DeliveryRepo, DomainRepo } from "../../core/ports/store.ts";
import { sqliteCode } from "./sql.ts";

interface DomainRow {
  host: string;
  deployment_id: string;
  created_at: number;
}

const toDomain = (r: DomainRow): Domain => ({ host: r.host, deploymentId: r.deployment_id, createdAt: r.created_at });

export class SqliteDomains implements DomainRepo {
  constructor(private readonly db: Database) {}

  async add(d: Domain): Promise<void> {
    const existing = await this.get(d.host);
    if (existing) {
      if (existing.deploymentId === d.deploymentId) return;
      throw conflict(`${d.host} is already attached to another app`, "remove it from that app first (DELETE …/domains/<host>)");
    }
    try {
      this.db.query("INSERT INTO domains (host, deployment_id, created_at) VALUES (?, ?, ?)").run(d.host, d.deploymentId, d.createdAt);
    } catch (err) {
      const code = sqliteCode(err);
      if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") throw notFound(`deployment ${d.deploymentId} not found`);
      if (code === "SQLITE_CONSTRAINT_PRIMARYKEY") throw conflict(`${d.host} is already attached to another app`, "remove it from that app first");
      throw err;
    }
  }

  async get(host: string): Promise<Domain | null> {
    const row = this.db.query<DomainRow, [string]>("SELECT * FROM domains WHERE host = ?").get(host);
    return row ? toDomain(row) : null;
  }

  async listFor(deploymentId: string): Promise<Domain[]> {
    return this.db.query<DomainRow, [string]>("SELECT * FROM domains WHERE deployment_id = ? ORDER BY host").all(deploymentId).map(toDomain);
  }

  async all(): Promise<Domain[]> {
    return this.db.query<DomainRow, []>("SELECT * FROM domains ORDER BY host").all().map(toDomain);
  }

  async remove(host: string): Promise<void> {
    this.db.query("DELETE FROM domains WHERE host = ?").run(host);
  }
}

export class SqliteDeliveries implements DeliveryRepo {
  constructor(private readonly db: Database) {}

  async record(deploymentId: string, deliveryId: string, now: number): Promise<boolean> {
    const res = this.db
      .query("INSERT INTO webhook_deliveries (deployment_id, delivery_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
      .run(deploymentId, deliveryId, now);
    return res.changes === 1;
  }

  async prune(before: number): Promise<void> {
    this.db.query("DELETE FROM webhook_deliveries WHERE received_at < ?").run(before);
  }
}
