/**
 * The store: everything Kiln must remember. SQLite by default (src/adapters/store/sqlite.ts);
 * written so a Postgres implementation can follow without touching callers (all methods async).
 */
import type { Build, Deployment } from "../deployment.ts";
import type { LogLine } from "../logs.ts";
import type { PoolMember, TenantClaim } from "../pool.ts";

export interface DeploymentRepo {
  insert(d: Deployment): Promise<void>;
  get(id: string): Promise<Deployment | null>;
  getByName(name: string): Promise<Deployment | null>;
  list(): Promise<Deployment[]>;
  update(id: string, patch: Partial<Omit<Deployment, "id" | "createdAt">>): Promise<Deployment>;
  delete(id: string): Promise<void>;
}

export interface BuildRepo {
  insert(b: Build): Promise<void>;
  get(id: string): Promise<Build | null>;
  listFor(deploymentId: string): Promise<Build[]>; // newest first
  nextNumber(deploymentId: string): Promise<number>;
  update(id: string, patch: Partial<Omit<Build, "id" | "deploymentId" | "createdAt">>): Promise<Build>;
}

/** Log lines are stored in chunks (many lines a row), keyed by their first and last seq. */
export interface LogRepo {
  appendChunk(deploymentId: string, lines: LogLine[]): Promise<void>;
  /** Lines with seq >= sinceSeq, in order, at most `limit`. */
  read(deploymentId: string, sinceSeq: number, limit: number): Promise<LogLine[]>;
  lastSeq(deploymentId: string): Promise<number>;
  deleteFor(deploymentId: string): Promise<void>;
}

/** Secrets by key (e.g. `deployment/<id>/git-token`, `deployment/<id>/env`). */
export interface SecretRepo {
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<string | null>;
  deletePrefix(prefix: string): Promise<void>;
}

/** Pool members and tenant claims. `takeReady` is the atomic heart of a claim. */
export interface PoolRepo {
  insertMember(m: PoolMember): Promise<void>;
  getMember(id: string): Promise<PoolMember | null>;
  /** All members not destroyed, of one workload or all. */
  listMembers(workloadId?: string): Promise<PoolMember[]>;
  updateMember(id: string, patch: Partial<Omit<PoolMember, "id" | "workloadId" | "createdAt">>): Promise<PoolMember>;
  deleteMember(id: string): Promise<void>;
  /** Atomically move a member from `ready` to `draining`; false when it is no longer ready (just claimed). */
  drainIfReady(id: string): Promise<boolean>;
  /**
   * Atomically move the oldest ready member of `workloadId` made from `specHash` to `claimed` by
   * `tenantId`. Returns null when none is ready. Two callers never get the same member.
   */
  takeReady(workloadId: string, specHash: string, tenantId: string, now: number): Promise<PoolMember | null>;
  /** The member a tenant holds in a workload (claimed or releasing), if any. */
  memberOfTenant(workloadId: string, tenantId: string): Promise<PoolMember | null>;
  /**
   * Where a tenant's requests go: the endpoint of the member it holds in a workload, once its claim
   * has completed (tenant claimed, releasing or release_failed) and while the member is not destroyed;
   * null otherwise.
   */
  endpointOfTenant(workloadId: string, tenantId: string): Promise<string | null>;
  putTenant(t: TenantClaim): Promise<void>;
  getTenant(tenantId: string, workloadId: string): Promise<TenantClaim | null>;
  /** Tenants, of one tenant id (all its workloads) or all. */
  listTenants(tenantId?: string): Promise<TenantClaim[]>;
}

export interface Store {
  pools: PoolRepo;
  deployments: DeploymentRepo;
  builds: BuildRepo;
  logs: LogRepo;
  secrets: SecretRepo;
  close(): Promise<void>;
}
