/**
 * The one typed client of Kiln's API, used by the CLI (and usable by any TypeScript caller).
 * Its types are the API's own schemas (`z.infer` of src/http/schemas.ts, imported as types only, so
 * a bundle of the client carries no server code). Every non-2xx answer becomes a ClientError with
 * the API's {error: {kind, message, hint}}; a server that cannot be reached is kind "unreachable".
 */
import type { z } from "@hono/zod-openapi";
import type {
  BuildList,
  ChangeView,
  ClaimView,
  CreateGitDeployment,
  DeploymentList,
  DeploymentView,
  EnvList,
  EnvPatch,
  EnvPut,
  Health,
  LogMessage,
  PoolList,
  ReleaseBody,
  ReleaseList,
  SettingsPatchBody,
  SettingsView,
  TenantList,
  WorkloadList,
} from "../http/schemas.ts";
import type { DomainList, DomainView } from "../http/schemas-domains.ts";
import type { PreviewList } from "../http/schemas-previews.ts";
import type { StatsView } from "../http/schemas-stats.ts";
import { CLOSE_CUT, LOG_PROTOCOL_VERSION, type LogFrame } from "../http/log-frames.ts";

/** The fetch the client calls (tests and the browser may pass their own). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export type Deployment = z.infer<typeof DeploymentView>;
export type DeploymentStatus = Deployment["status"];
export type Build = z.infer<typeof BuildList>["builds"][number];
export type CreateGitRequest = z.infer<typeof CreateGitDeployment>;
export type HealthReport = z.infer<typeof Health>;
export type LogLine = z.infer<typeof LogMessage>;
export type Claim = z.infer<typeof ClaimView>;
export type ReleaseRequest = z.infer<typeof ReleaseBody>;
export type Tenant = z.infer<typeof TenantList>["tenants"][number];
export type Pool = z.infer<typeof PoolList>["pools"][number];
export type Workloads = z.infer<typeof WorkloadList>;
/** One kept release of an app (image + env names + settings), `current` when it serves. */
export type Release = z.infer<typeof ReleaseList>["releases"][number];
export type Settings = z.infer<typeof SettingsView>;
/** A settings change as PATCH …/settings takes it (fields checked server-side; null resets one). */
export type SettingsPatch = z.infer<typeof SettingsPatchBody>;
/** An env variable's name and flags: values are never returned. */
export type EnvVar = z.infer<typeof EnvList>["env"][number];
/** NAME: value, or NAME: {value, secret?, buildTime?}. */
export type EnvInput = z.infer<typeof EnvPut>["env"];
export type EnvChange = z.infer<typeof EnvPatch>;
/** What a change did: released (serving, waited), queued, or saved for the next deploy. */
export type Change = z.infer<typeof ChangeView>;
/** A domain attached to an app, with its certificate state (http when TLS is off). */
export type Domain = z.infer<typeof DomainView>;
export type DomainStatus = Domain["status"];
/** An app's samples of the last hour (CPU, memory, network, requests, latency), oldest first. */
export type AppStats = z.infer<typeof StatsView>;
export type StatsSample = AppStats["samples"][number];
/** Whether an app has a webhook and where it is (never its secret). */
export interface Webhook {
  configured: boolean;
  url: string;
  publicUrl: string;
  createdAt: string | null;
}
/** A webhook just made or rotated: the only answer that carries its secret. */
export interface WebhookCreated {
  url: string;
  /** The receiver through Caddy's public address: the one to give the Git host. */
  publicUrl: string;
  secret: string;
  rotated: boolean;
  createdAt: string;
  /** Where to paste the URL and secret, per Git host. */
  hints: { github: string; gitlab: string; gitea: string; generic: string };
}
/** Who asks, recorded on releases (X-Kiln-Via). */
export type Via = "cli" | "dashboard";
/** `wait`: answer once the new release serves (or fails its health check: a 409 ClientError). */
export interface WaitOption {
  wait?: boolean;
}
export interface UploadOptions {
  env?: EnvInput;
  settings?: SettingsPatch;
}

/** A refusal or failure, as the API described it. status 0: no HTTP answer at all. */
export class ClientError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ClientError";
  }
}

export interface ClientOptions {
  /** The server, e.g. http://127.0.0.1:4000 (with or without /api/v1). */
  baseUrl: string;
  token: string;
  /** For tests: a fetch to use instead of the global one. */
  fetch?: FetchFn;
  /** Sent as X-Kiln-Via, recorded on the releases this client makes. */
  via?: Via;
}

/** Upload progress: bytes sent so far, and the total when known. */
export type ProgressFn = (sent: number, total: number | undefined) => void;

export interface LogStreamOptions {
  /** First seq to replay (default 1: everything kept). */
  since?: number;
  /** Keep the stream open for the live tail (default true). Without it, the stream ends at the server's end-of-replay marker. */
  follow?: boolean;
  /** Called for every line, in seq order, once each (also across a resume after a cut). */
  onLine?: (line: LogLine) => void;
  /** Called per frame with its lines (many at once): cheaper than onLine for a viewer. */
  onLines?: (lines: LogLine[]) => void;
  /** The replay is done (the server's `replayed` marker): `seq` is the last seq sent before it. */
  onReplayed?: (seq: number) => void;
}

export interface LogStream {
  /** Resolves when the stream ends (closed by either side); rejects when it cannot connect. */
  done: Promise<void>;
  close(): void;
}

const UPLOAD_CHUNK = 64 * 1024;

export class KilnClient {
  readonly apiBase: string;
  private readonly token: string;
  private readonly fetchFn: FetchFn;
  private readonly via: Via | undefined;

  constructor(opts: ClientOptions) {
    const trimmed = opts.baseUrl.replace(/\/+$/, "");
    this.apiBase = trimmed.endsWith("/api/v1") ? trimmed : `${trimmed}/api/v1`;
    this.token = opts.token;
    this.via = opts.via;
    // Bound: browsers refuse `fetch` called as a method of another object ("Illegal invocation").
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  health(): Promise<HealthReport> {
    return this.request("GET", "/health");
  }

  async listDeployments(): Promise<Deployment[]> {
    return (await this.request<z.infer<typeof DeploymentList>>("GET", "/deployments")).deployments;
  }

  getDeployment(idOrName: string): Promise<Deployment> {
    return this.request("GET", `/deployments/${enc(idOrName)}`);
  }

  async builds(idOrName: string): Promise<Build[]> {
    return (await this.request<z.infer<typeof BuildList>>("GET", `/deployments/${enc(idOrName)}/builds`)).builds;
  }

  createFromGit(body: CreateGitRequest): Promise<Deployment> {
    return this.request("POST", "/deployments", body);
  }

  /**
   * Upload tar or tar.gz bytes (or a stream of them); `onProgress` sees every chunk as it is sent.
   * Env and settings travel in the Kiln-Env / Kiln-Settings headers (JSON), never in the URL.
   */
  upload(source: Uint8Array | ReadableStream<Uint8Array>, name?: string, onProgress?: ProgressFn, opts: UploadOptions = {}): Promise<Deployment> {
    const path = `/deployments/upload${name ? `?name=${enc(name)}` : ""}`;
    const body = (onProgress ? countingStream(source, onProgress) : source) as NonNullable<RequestInit["body"]>;
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (opts.env && Object.keys(opts.env).length > 0) headers["kiln-env"] = headerJson(opts.env);
    if (opts.settings && Object.keys(opts.settings).length > 0) headers["kiln-settings"] = headerJson(opts.settings);
    return this.request("POST", path, undefined, { body, headers });
  }

  redeploy(idOrName: string): Promise<Deployment> {
    return this.request("POST", `/deployments/${enc(idOrName)}/redeploy`);
  }

  stop(idOrName: string): Promise<Deployment> {
    return this.request("POST", `/deployments/${enc(idOrName)}/stop`);
  }

  /** Delete a deployment; its volumes too only with `volumes: true`. */
  async remove(idOrName: string, opts: { volumes?: boolean } = {}): Promise<void> {
    await this.request("DELETE", `/deployments/${enc(idOrName)}${opts.volumes ? "?volumes=true" : ""}`);
  }

  /** The kept releases, newest first. */
  /** The last hour of an app's stats; with `since` (a sample's ts), only newer samples. */
  stats(idOrName: string, since?: number): Promise<AppStats> {
    return this.request("GET", `/deployments/${enc(idOrName)}/stats${since === undefined ? "" : `?since=${since}`}`);
  }

  async releases(idOrName: string): Promise<Release[]> {
    return (await this.request<z.infer<typeof ReleaseList>>("GET", `/deployments/${enc(idOrName)}/releases`)).releases;
  }

  /** Serve an earlier release again (default: the one before the serving one). */
  rollback(idOrName: string, opts: { release?: number } & WaitOption = {}): Promise<Change> {
    const body = opts.release === undefined ? {} : { release: opts.release };
    return this.request("POST", `/deployments/${enc(idOrName)}/rollback${waitQuery(opts)}`, body);
  }

  /** Env names and flags (never values). */
  async env(idOrName: string): Promise<EnvVar[]> {
    return (await this.request<z.infer<typeof EnvList>>("GET", `/deployments/${enc(idOrName)}/env`)).env;
  }

  /** Replace the whole env. */
  putEnv(idOrName: string, env: EnvInput, opts: WaitOption = {}): Promise<Change> {
    return this.request("PUT", `/deployments/${enc(idOrName)}/env${waitQuery(opts)}`, { env });
  }

  /** Set and unset some variables. */
  patchEnv(idOrName: string, change: EnvChange, opts: WaitOption = {}): Promise<Change> {
    return this.request("PATCH", `/deployments/${enc(idOrName)}/env${waitQuery(opts)}`, change);
  }

  settings(idOrName: string): Promise<Settings> {
    return this.request("GET", `/deployments/${enc(idOrName)}/settings`);
  }

  patchSettings(idOrName: string, patch: SettingsPatch, opts: WaitOption = {}): Promise<Change> {
    return this.request("PATCH", `/deployments/${enc(idOrName)}/settings${waitQuery(opts)}`, patch);
  }

  /** The app's domains, each with its certificate state. */
  async domains(idOrName: string): Promise<Domain[]> {
    return (await this.request<z.infer<typeof DomainList>>("GET", `/deployments/${enc(idOrName)}/domains`)).domains;
  }

  /** Attach a domain (409 when another app holds it; 400 when it is not a DNS name). */
  addDomain(idOrName: string, host: string): Promise<Domain> {
    return this.request("POST", `/deployments/${enc(idOrName)}/domains`, { host });
  }

  async removeDomain(idOrName: string, host: string): Promise<void> {
    await this.request("DELETE", `/deployments/${enc(idOrName)}/domains/${enc(host)}`);
  }

  /** The internal CA's root certificate (PEM) to trust; 404 unless the server runs KILN_TLS=internal. */
  rootPem(): Promise<string> {
    return this.request("GET", "/tls/root.pem", undefined, undefined, "text");
  }

  /** Whether the app has a webhook, and its URLs (never the secret). */
  webhook(idOrName: string): Promise<Webhook> {
    return this.request("GET", `/deployments/${enc(idOrName)}/webhook`);
  }

  /** Make the app's webhook, or rotate its secret: this answer is the only one with the secret. */
  createWebhook(idOrName: string): Promise<WebhookCreated> {
    return this.request("POST", `/deployments/${enc(idOrName)}/webhook`);
  }

  async deleteWebhook(idOrName: string): Promise<void> {
    await this.request("DELETE", `/deployments/${enc(idOrName)}/webhook`);
  }

  /** The app's previews, newest first. */
  async previews(idOrName: string): Promise<Deployment[]> {
    return (await this.request<z.infer<typeof PreviewList>>("GET", `/deployments/${enc(idOrName)}/previews`)).previews;
  }

  /** Make (or redeploy) a preview of a branch, tag or commit of the app's repository. */
  createPreview(idOrName: string, ref: string): Promise<Deployment> {
    return this.request("POST", `/deployments/${enc(idOrName)}/previews`, { ref });
  }

  /**
   * A deployment's log over WebSocket (protocol v2, README "Log streams"): replay from `since`, then
   * (with `follow`) the live tail. A stream the server cuts for reading too slowly is resumed from
   * the seq the cut names, so the caller sees no gap and no duplicate.
   */
  streamLogs(idOrName: string, opts: LogStreamOptions): LogStream {
    const follow = opts.follow ?? true;
    let next = opts.since ?? 1;
    let ws: WebSocket | null = null;
    let stopped = false;
    const done = new Promise<void>((resolve, reject) => {
      const connect = (first: boolean) => {
        const url = new URL(`${this.apiBase}/deployments/${enc(idOrName)}/logs`);
        url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
        url.searchParams.set("since", String(next));
        url.searchParams.set("v", String(LOG_PROTOCOL_VERSION));
        url.searchParams.set("token", this.token);
        const socket = new WebSocket(url.toString());
        ws = socket;
        let opened = false;
        let resumeFrom = 0;
        socket.onopen = () => {
          opened = true;
        };
        socket.onmessage = (ev) => {
          const frame = JSON.parse(String(ev.data)) as LogFrame;
          if (frame.type === "lines") {
            const fresh = frame.lines.filter((l) => l.seq >= next);
            if (fresh.length === 0) return;
            next = fresh[fresh.length - 1]!.seq + 1;
            opts.onLines?.(fresh);
            if (opts.onLine) for (const l of fresh) opts.onLine(l);
          } else if (frame.type === "replayed") {
            opts.onReplayed?.(frame.seq);
            if (!follow) {
              stopped = true;
              socket.close();
            }
          } else if (frame.type === "cut") {
            resumeFrom = frame.resumeFrom;
          }
        };
        socket.onerror = () => {
          if (!opened && first) {
            stopped = true;
            reject(new ClientError(0, "unreachable", `cannot open the log stream of ${idOrName} at ${this.apiBase}`, "check the name and that Kiln is running"));
          }
        };
        socket.onclose = (ev) => {
          if (!stopped && (ev.code === CLOSE_CUT || resumeFrom > 0)) {
            next = Math.max(next, resumeFrom);
            connect(false);
          } else resolve();
        };
      };
      connect(true);
    });
    return {
      done,
      close: () => {
        stopped = true;
        ws?.close();
      },
    };
  }

  claim(workload: string, tenantId: string): Promise<Claim> {
    return this.request("POST", `/tenants/${enc(tenantId)}/claim`, { workload });
  }

  release(tenantId: string, body: ReleaseRequest = {}): Promise<{ released: string[] }> {
    return this.request("POST", `/tenants/${enc(tenantId)}/release`, body);
  }

  async tenants(): Promise<Tenant[]> {
    return (await this.request<z.infer<typeof TenantList>>("GET", "/tenants")).tenants;
  }

  async tenantStatus(tenantId: string): Promise<Tenant[]> {
    return (await this.request<z.infer<typeof TenantList>>("GET", `/tenants/${enc(tenantId)}/status`)).tenants;
  }

  async pools(): Promise<Pool[]> {
    return (await this.request<z.infer<typeof PoolList>>("GET", "/pools")).pools;
  }

  workloads(): Promise<Workloads> {
    return this.request("GET", "/workloads");
  }

  /** The one place a request is made and an answer judged. */
  private async request<T>(
    method: string,
    path: string,
    json?: unknown,
    raw?: { body: NonNullable<RequestInit["body"]>; headers: Record<string, string> },
    as: "json" | "text" = "json",
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...(this.via ? { "x-kiln-via": this.via } : {}), ...(raw?.headers ?? {}) };
    let body: NonNullable<RequestInit["body"]> | undefined = raw?.body;
    if (json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(json);
    }
    let res: Response;
    try {
      res = await this.fetchFn(`${this.apiBase}${path}`, { method, headers, body });
    } catch (err) {
      throw new ClientError(0, "unreachable", `cannot reach Kiln at ${this.apiBase} (${err instanceof Error ? err.message : String(err)})`, "is `kiln serve` running? Set --url or KILN_URL to its address");
    }
    const text = await res.text();
    if (!res.ok) throw errorFrom(res.status, text);
    if (as === "text") return text as T;
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export function errorFrom(status: number, text: string): ClientError {
  try {
    const e = (JSON.parse(text) as { error?: { kind?: unknown; message?: unknown; hint?: unknown } }).error;
    if (e && typeof e.message === "string") {
      return new ClientError(status, typeof e.kind === "string" ? e.kind : "unknown", e.message, typeof e.hint === "string" ? e.hint : undefined);
    }
  } catch {
    // not the API's error body: fall through
  }
  const known = BARE_STATUS[status];
  if (known) return new ClientError(status, known.kind, known.message, known.hint);
  return new ClientError(status, "unknown", `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`, "is this address a Kiln API?");
}

/** Answers without the API's error body (a proxy's, or the HTTP server's own size limit). */
const BARE_STATUS: Record<number, { kind: string; message: string; hint: string }> = {
  401: { kind: "unauthorized", message: "the server refused the API token", hint: "check --token / KILN_TOKEN" },
  404: { kind: "not_found", message: "not found", hint: "is this address a Kiln API (…/api/v1)?" },
  413: { kind: "too_large", message: "the upload is over the server's size limit", hint: "leave big files out with .kilnignore, or raise KILN_MAX_UPLOAD_MB on the server" },
};

const enc = encodeURIComponent;

const waitQuery = (opts: WaitOption) => (opts.wait ? "?wait=true" : "");

/** JSON for a header: header values are Latin-1, so anything beyond ASCII goes as a \uXXXX escape (still the same JSON). */
export function headerJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Bytes or a stream, re-emitted in chunks while counting what has gone out. */
function countingStream(source: Uint8Array | ReadableStream<Uint8Array>, onProgress: ProgressFn): ReadableStream<Uint8Array> {
  let sent = 0;
  if (source instanceof Uint8Array) {
    const total = source.byteLength;
    onProgress(0, total);
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) {
          controller.close();
          return;
        }
        const chunk = source.subarray(sent, Math.min(total, sent + UPLOAD_CHUNK));
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        onProgress(sent, total);
      },
    });
  }
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        onProgress(sent, undefined);
      },
    }),
  );
}
