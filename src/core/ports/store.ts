/**
 * The store: everything Kiln must remember. SQLite by default (src/adapters/store/sqlite.ts);
 * PostgreSQL with KILN_DATABASE_URL (src/adapters/store/postgres.ts). All methods async; both pass
 * test/store/contract.ts.
 */
import type { Build, Deployment } from "../deployment.ts";
import type { LogLine, LogStream, SourceMark, StreamKey } from "../logs.ts";
import type { PoolMember, TenantClaim } from "../pool.ts";
import type { Release } from "../release.ts";
import type { Domain } from "../domains.ts";

export interface DeploymentRepo {
  insert(d: Deployment): Promise<void>;
  get(id: string): Promise<Deployment | null>;
  getByName(name: string): Promise<Deployment | null>;
  list(): Promise<Deployment[]>;
  /**
   * Sets the given fields. A `status` is written only from a status the lifecycle allows
   * (src/core/deployment.ts), atomically; otherwise IllegalMove (409) naming the current status and
   * `where` (the caller, for the reader of the error). Missing: not_found.
   */
  update(id: string, patch: Partial<Omit<Deployment, "id" | "createdAt">>, where?: string): Promise<Deployment>;
  delete(id: string): Promise<void>;
}

export interface BuildRepo {
  insert(b: Build): Promise<void>;
  get(id: string): Promise<Build | null>;
  listFor(deploymentId: string): Promise<Build[]>; // newest first
  nextNumber(deploymentId: string): Promise<number>;
  /** Like DeploymentRepo.update, against the build lifecycle. */
  update(id: string, patch: Partial<Omit<Build, "id" | "deploymentId" | "createdAt">>, where?: string): Promise<Build>;
}

/** Releases: what each deployment served, numbered per deployment. */
export interface ReleaseRepo {
  insert(r: Release): Promise<void>;
  get(id: string): Promise<Release | null>;
  getByNumber(deploymentId: string, number: number): Promise<Release | null>;
  listFor(deploymentId: string): Promise<Release[]>; // newest first
  nextNumber(deploymentId: string): Promise<number>;
  delete(id: string): Promise<void>;
}

/** Users' own domains: one host, one deployment. */
export interface DomainRepo {
  /** A host another deployment holds is a conflict naming it; the same deployment again is a no-op. */
  add(d: Domain): Promise<void>;
  get(host: string): Promise<Domain | null>;
  listFor(deploymentId: string): Promise<Domain[]>;
  all(): Promise<Domain[]>;
  remove(host: string): Promise<void>;
}

/** Webhook deliveries seen, so a redelivery builds nothing. */
export interface DeliveryRepo {
  /** Records the delivery; false when it was already recorded (for this deployment). */
  record(deploymentId: string, deliveryId: string, now: number): Promise<boolean>;
  /** Forget deliveries older than `before` (ms). */
  prune(before: number): Promise<void>;
}

/** Log lines are stored in chunks (many lines a row), keyed by their first and last seq. */
export interface LogRepo {
  /** Stores a chunk and, in the same transaction, the newest source marks of its lines (one per container and output). */
  appendChunk(stream: StreamKey, lines: LogLine[], marks?: readonly SourceMark[]): Promise<void>;
  /** Lines with seq >= sinceSeq, in order, at most `limit`. */
  read(stream: StreamKey, sinceSeq: number, limit: number): Promise<LogLine[]>;
  lastSeq(stream: StreamKey): Promise<number>;
  deleteFor(stream: StreamKey): Promise<void>;
}

/** Where each container's log was last stored (the marks appendChunk keeps): a restarted Kiln resumes from them. */
export interface LogSources {
  /** The stored marks of a container's lines, and since when marks have been kept (epoch ms). */
  sourceMarks(container: string): Promise<{ marks: SourceMark[]; keptSince: number }>;
  /** Drops a container's marks (it is gone). */
  forgetSource(container: string): Promise<void>;
}

/**
 * A search over one stream's stored lines (the API's form is parsed by src/logs/search-query.ts).
 * Every bound is inclusive; absent bounds are open. Pages run newest first.
 */
export interface LogSearch {
  /** A substring of the text, matched case-insensitively (ECMAScript `/i` folding); absent: every line. */
  text?: string;
  streams?: readonly LogStream[];
  sinceSeq?: number;
  untilSeq?: number;
  sinceTs?: number;
  untilTs?: number;
  /** Only lines with seq < before: the previous page's `next`. */
  before?: number;
  limit: number;
  /** Most stored lines examined before answering with a short page (whose `next` goes on). */
  scanBudget?: number;
}

export interface LogPage {
  /** Newest first. */
  lines: LogLine[];
  /** Pass as `before` for the next (older) page; null when nothing older can match. */
  next: number | null;
  /** Stored lines examined. */
  scanned: number;
}

/** One stream's stored footprint: bytes as stored (compressed). */
export interface LogUsage {
  stream: StreamKey;
  bytes: number;
  lines: number;
}

/** What a prune removed: whole chunks, every line up to `throughSeq` (0 when nothing). */
export interface LogPruned {
  lines: number;
  bytes: number;
  throughSeq: number;
  /** Offloaded segments removed, their objects deleted first (counted in lines and bytes too); absent: none. */
  segments?: number;
}

/** The log repo with search and retention (SQLite: src/adapters/store/sqlite-logs.ts). */
export interface LogArchive extends LogRepo {
  search(stream: StreamKey, query: LogSearch): Promise<LogPage>;
  usage(): Promise<LogUsage[]>;
  /** Removes the stream's chunks whose newest line is older than `before` (ms), then its oldest chunks until at most `maxBytes` remain. */
  prune(stream: StreamKey, limits: { before: number; maxBytes: number }): Promise<LogPruned>;
}

/** One stored chunk as it sits in the store, body still encoded (codec "zstd" or "json"): what an offload packs. */
export interface StoredChunk {
  firstSeq: number;
  lastSeq: number;
  minTs: number;
  maxTs: number;
  /** The streams it holds, ",build,system,". */
  kinds: string;
  codec: string;
  body: Uint8Array;
}

/** A run of a stream's oldest lines moved to an object in S3 (src/logs/offload.ts); `key` is the object's key under the offload prefix. */
export interface LogSegment {
  stream: StreamKey;
  firstSeq: number;
  lastSeq: number;
  firstTs: number;
  lastTs: number;
  lines: number;
  /** The object's size. */
  bytes: number;
  key: string;
  createdAt: number;
}

/** A stream's stored log by where it lives: hot (chunks in the store) and cold (segments in S3). */
export interface LogStorage {
  hot: { chunks: number; lines: number; bytes: number; firstSeq: number | null; lastSeq: number | null };
  cold: { segments: number; lines: number; bytes: number; firstSeq: number | null; lastSeq: number | null };
}

/**
 * The store's side of log offload (SQLite: src/adapters/store/sqlite-log-tiers.ts): which chunks are
 * cold, and the table of segments. Seqs in segments are always below the stream's stored chunks.
 */
export interface LogTiers {
  /**
   * The stream's oldest chunks, oldest first, while each ended before `before` (ms): never its newest
   * chunk, at most `maxBytes` of bodies (at least one chunk when any is cold).
   */
  coldChunks(stream: StreamKey, before: number, maxBytes: number): Promise<StoredChunk[]>;
  /**
   * Records the segment and deletes the chunks it holds (seqs firstSeq..lastSeq), in one transaction;
   * false, with nothing changed, when those chunks are no longer exactly what was packed (`lines` of them).
   */
  commitSegment(segment: LogSegment): Promise<boolean>;
  /** Streams holding segments. */
  streamsWithSegments(): Promise<StreamKey[]>;
  /** The stream's segments, oldest first. */
  segments(stream: StreamKey): Promise<LogSegment[]>;
  /** The stream's oldest segment holding any seq >= `seq`, or null. */
  segmentFrom(stream: StreamKey, seq: number): Promise<LogSegment | null>;
  /** The stream's segments overlapping seqs lower..upper and times sinceTs..untilTs, newest first. */
  segmentsWithin(stream: StreamKey, span: { lower: number; upper: number; sinceTs: number; untilTs: number }): Promise<LogSegment[]>;
  removeSegment(stream: StreamKey, firstSeq: number): Promise<void>;
  removeSegmentsOf(stream: StreamKey): Promise<void>;
  /** The seq of the stream's oldest stored chunk, or null. */
  firstHotSeq(stream: StreamKey): Promise<number | null>;
  storage(stream: StreamKey): Promise<LogStorage>;
}

/** Secrets by key (e.g. `deployment/<id>/git-token`, `deployment/<id>/env`). */
export interface SecretRepo {
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<string | null>;
  deletePrefix(prefix: string): Promise<void>;
  /** The keys starting with `prefix` (matched literally; "" lists all), sorted. */
  list(prefix: string): Promise<string[]>;
}

/** Pool members and tenant claims. `takeReady` is the atomic heart of a claim. */
export interface PoolRepo {
  insertMember(m: PoolMember): Promise<void>;
  getMember(id: string): Promise<PoolMember | null>;
  /** All members not destroyed, of one workload or all, of one node or all. */
  listMembers(workloadId?: string, node?: string): Promise<PoolMember[]>;
  /** Like DeploymentRepo.update, against the member lifecycle (src/core/pool.ts). */
  updateMember(id: string, patch: Partial<Omit<PoolMember, "id" | "workloadId" | "createdAt">>, where?: string): Promise<PoolMember>;
  deleteMember(id: string): Promise<void>;
  /** Atomically move a member from `ready` to `draining`; false when it is no longer ready (just claimed). */
  drainIfReady(id: string): Promise<boolean>;
  /**
   * Atomically move the oldest ready member of `workloadId` made from `specHash` on `node` to
   * `claimed` by `tenantId`. Returns null when none is ready there (another node's ready members
   * don't count: their slots are on another host). Two callers never get the same member, and never
   * one that was not ready. One statement: no read before or after.
   */
  takeReady(workloadId: string, specHash: string, tenantId: string, now: number, node: string): Promise<PoolMember | null>;
  /**
   * Gives `node` every member recorded before members had nodes (node ""), whatever its status: a
   * Kiln upgraded in place owns what it made before. Returns how many. One statement.
   */
  adoptMembers(node: string): Promise<number>;
  /** The member a tenant holds in a workload (claimed or releasing), if any. */
  memberOfTenant(workloadId: string, tenantId: string): Promise<PoolMember | null>;
  /**
   * Where a tenant's requests go: the endpoint of the member it holds in a workload, once its claim
   * has completed (tenant claimed, releasing or release_failed) and while the member is not destroyed;
   * null otherwise.
   */
  endpointOfTenant(workloadId: string, tenantId: string): Promise<string | null>;
  /**
   * Inserts or replaces the tenant's row. Its status is written only from a status the tenant
   * lifecycle allows (a missing row counts as `released`); otherwise IllegalMove, nothing written.
   */
  putTenant(t: TenantClaim, where?: string): Promise<void>;
  getTenant(tenantId: string, workloadId: string): Promise<TenantClaim | null>;
  /** Tenants, of one tenant id (all its workloads) or all. */
  listTenants(tenantId?: string): Promise<TenantClaim[]>;
}

export interface Store {
  pools: PoolRepo;
  deployments: DeploymentRepo;
  builds: BuildRepo;
  releases: ReleaseRepo;
  domains: DomainRepo;
  deliveries: DeliveryRepo;
  logs: LogArchive & LogSources;
  secrets: SecretRepo;
  close(): Promise<void>;
}
