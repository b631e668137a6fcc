/**
 * ContainerRuntime over the Docker Engine API on its unix socket. Request bodies and queries
 * are built by pure functions (create-body.ts, image-queries.ts); this class sends them and
 * reads the answers.
 */
import { listeningSockets } from "../procfs/listening.ts";
import { KilnError, StepError } from "../../core/errors.ts";
import type { LogSink } from "../../core/logs.ts";
import type { ContainerInfo, ContainerRuntime, ContainerSpec, ImageBuildRequest, ImageSummary, Labels, NetworkKind, VolumeSummary } from "../../core/ports/runtime.ts";
import { MANAGED } from "../../core/labels.ts";
import { openBuildSession } from "./buildkit-session.ts";
import { BuildTraceDecoder, describeFailedStep } from "./buildkit-trace.ts";
import { type BuildLimiter, outOfMemory } from "../cgroups/build-cgroup.ts";
import { ICC_OPTION, checkVolumeName, containerCreateBody, isIsolatedNetwork, networkConnectBody, networkCreateBody, volumeCreateBody } from "./create-body.ts";
import { EngineHttp, readJsonLines, streamError, type EngineRequest } from "./http.ts";
import { buildQuery, importQuery, pullQuery } from "./image-queries.ts";
import { demuxLines, LogDemuxer, type OutputStream } from "../../formats/log-demux.ts";
import { containerInfo, labelFilters, type InspectJson } from "./container-info.ts";
import { sinceParam, splitStamp } from "./log-stamps.ts";

export interface DockerEngineOptions {
  socketPath?: string;
  apiVersion?: string;
  /** Where a warning goes that is not worth failing for (default: console.warn). */
  warn?: (message: string) => void;
  /** Bounds builds' RUN steps (adapters/cgroups/build-cgroup.ts); asked before every build. */
  buildLimiter?: BuildLimiter;
}

type NetworkSummary = { Id: string; Name: string; Created: string; Driver: string; Options: Record<string, string> | null; Labels: Labels | null };

const enc = encodeURIComponent;

/** A `sinceSeconds` below this is "seconds ago"; from it on, a Unix time in seconds. */
const EPOCH_THRESHOLD = 1_000_000_000;

export class DockerEngine implements ContainerRuntime {
  readonly #http: EngineHttp;
  readonly #networksInFlight = new Map<string, Promise<void>>();
  readonly #warn: (message: string) => void;
  readonly #buildLimiter: BuildLimiter | undefined;
  /** Networks whose check was refused and already warned about. */
  readonly #unverifiedNetworks = new Set<string>();

  constructor({ socketPath = "/var/run/docker.sock", apiVersion = "v1.41", warn = (m) => console.warn(`kiln: ${m}`), buildLimiter }: DockerEngineOptions = {}) {
    this.#http = new EngineHttp(socketPath, apiVersion);
    this.#warn = warn;
    this.#buildLimiter = buildLimiter;
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.#http.send({ path: "/_ping", signal });
  }

  /**
   * Make sure a bridge network of this name and kind exists. The engine does not make creation
   * atomic (two concurrent creates can both succeed), so calls in this process are merged, and
   * after creating, any same-named twin is removed: every racer keeps the oldest.
   *
   * `isolated` (the default: Kiln's own network) must have inter-container traffic off. One found
   * with it on (made by an older Kiln) is removed and made anew when Kiln made it and nothing is
   * attached (by id, so racers remove it once); otherwise this throws a KilnError saying what to do —
   * Kiln never quietly puts tenants on a network where they reach each other. A `shared` network
   * (named by the user) is created with traffic on when absent, and joined as it is when present.
   *
   * Behind a socket proxy without NETWORKS (docker-socket-proxy), the check itself is refused
   * (403). Then the network is assumed to exist — the operator creates it — and that is said once,
   * as a warning; a container on a missing network then fails to start (Docker: network not found).
   * Any other failure, and a refused create, is an error.
   */
  ensureNetwork(name: string, labels: Labels, kind: NetworkKind = "isolated"): Promise<void> {
    const key = `${kind}:${name}`;
    let pending = this.#networksInFlight.get(key);
    if (!pending) {
      pending = this.#ensureNetwork(name, labels, kind).finally(() => this.#networksInFlight.delete(key));
      this.#networksInFlight.set(key, pending);
    }
    return pending;
  }

  async #ensureNetwork(name: string, labels: Labels, kind: NetworkKind): Promise<void> {
    const existing = await this.#networksNamed(name);
    if (existing === "forbidden") {
      if (!this.#unverifiedNetworks.has(name)) {
        this.#unverifiedNetworks.add(name);
        const create = kind === "isolated" ? `docker network create -o ${ICC_OPTION}=false ${name}` : `docker network create ${name}`;
        this.#warn(
          `the Docker socket ${this.#http.socketPath} refused to list networks (HTTP 403: a socket proxy without NETWORKS?), ` +
            `so Docker network ${name} is assumed to exist. Behind a socket proxy without NETWORKS, create the network yourself ` +
            `(${create}); containers fail to start without it.`,
        );
      }
      return;
    }
    if (kind === "shared") {
      if (existing.length === 0) await this.#createNetwork(name, labels, kind);
      return;
    }
    for (const n of existing.filter((n) => !isIsolatedNetwork(n))) await this.#retireOpenNetwork(n);
    if (!existing.some(isIsolatedNetwork)) await this.#createNetwork(name, labels, kind);
  }

  async #createNetwork(name: string, labels: Labels, kind: NetworkKind): Promise<void> {
    await this.#http.send({
      method: "POST",
      path: "/networks/create",
      json: networkCreateBody(name, labels, kind),
      okStatuses: [409], // created by someone else meanwhile: just as good
    });
    const after = await this.#networksNamed(name);
    if (after === "forbidden") return;
    const keep = kind === "isolated" ? after.filter(isIsolatedNetwork) : after;
    for (const twin of keep.slice(1)) {
      await this.#http.send({ method: "DELETE", path: `/networks/${enc(twin.Id)}`, okStatuses: [404] });
    }
  }

  /** An isolated network found with inter-container traffic on: removed when Kiln made it and nothing is attached; else refused. */
  async #retireOpenNetwork(n: NetworkSummary): Promise<void> {
    const open = `Docker network ${n.Name} allows traffic between its containers (${ICC_OPTION} is not "false")`;
    const elsewhere = `or point Kiln at another network name (KILN_DOCKER_NETWORK)`;
    if (n.Labels?.[MANAGED] !== "true") {
      throw new KilnError(
        "conflict",
        `${open} and was not made by Kiln, so Kiln will not put containers on it`,
        `remove it (docker network rm ${n.Name}) and Kiln makes it anew, isolated; or recreate it yourself with ` +
          `docker network create -o ${ICC_OPTION}=false ${n.Name}; ${elsewhere}`,
      );
    }
    const attachedError = (names: string[]) =>
      new KilnError(
        "conflict",
        `${open}, and containers are attached to it${names.length ? ` (${names.slice(0, 5).join(", ")}${names.length > 5 ? ", …" : ""})` : ""}: ` +
          `it was made by an older Kiln, and Kiln will not keep tenants and apps on a network where they reach each other`,
        `stop and remove those containers, then docker network rm ${n.Name} (Kiln makes it anew, isolated); ${elsewhere}`,
      );
    const res = await this.#http.request({ path: `/networks/${enc(n.Id)}`, okStatuses: [404] });
    if (res.status === 404) {
      await res.arrayBuffer();
      return; // removed by a racer
    }
    const detail = (await res.json()) as { Containers?: Record<string, { Name: string }> | null };
    const attached = Object.values(detail.Containers ?? {}).map((c) => c.Name);
    if (attached.length > 0) throw attachedError(attached);
    // 403: "has active endpoints" — a container joined meanwhile.
    const status = await this.#http.send({ method: "DELETE", path: `/networks/${enc(n.Id)}`, okStatuses: [403, 404] });
    if (status === 403) throw attachedError([]);
  }

  /** Networks with exactly this name, oldest first; "forbidden" when the socket refuses to list them (403). */
  async #networksNamed(name: string): Promise<NetworkSummary[] | "forbidden"> {
    const res = await this.#http.request({
      path: "/networks",
      query: { filters: JSON.stringify({ name: [name] }) },
      okStatuses: [403],
    });
    if (res.status === 403) {
      await res.arrayBuffer();
      return "forbidden";
    }
    const nets = (await res.json()) as NetworkSummary[];
    return nets
      .filter((n) => n.Name === name)
      .sort((a, b) => a.Created.localeCompare(b.Created) || a.Id.localeCompare(b.Id));
  }

  async imageExists(ref: string): Promise<boolean> {
    return (await this.#http.send({ path: `/images/${enc(ref)}/json`, okStatuses: [404] })) !== 404;
  }

  async importImage(rootfsTar: ReadableStream<Uint8Array> | Uint8Array, ref: string, changes: string[]): Promise<void> {
    await this.#streamed(
      { method: "POST", path: "/images/create", query: importQuery(ref, changes), raw: rootfsTar, contentType: "application/x-tar" },
      (message) => new KilnError("unavailable", `docker import of ${ref} failed: ${message}`),
    );
  }

  /** Pull from a registry; throws when the registry is unreachable or the pull outlasts `timeoutMs`. */
  async pullImage(ref: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    await this.#streamed(
      { method: "POST", path: "/images/create", query: pullQuery(ref), signal },
      (message) => new KilnError("unavailable", `docker pull ${ref} failed: ${message}`),
    );
  }

  /** Builds with BuildKit; `cachedSteps` names the steps it reused from its cache. */
  async buildImage(req: ImageBuildRequest): Promise<{ imageId: string; cachedSteps: string[] }> {
    const trace = new BuildTraceDecoder(req.onLine);
    let imageId = "";
    let failure: string | null = null;
    const limits = await this.#buildLimiter?.watch();
    // Build-time secrets reach RUN --mount=type=secret steps through a BuildKit session, never as build args.
    const session = req.secrets && Object.keys(req.secrets).length > 0
      ? await openBuildSession({ socketPath: this.#http.socketPath, apiVersion: this.#http.apiVersion, secrets: req.secrets })
      : null;
    try {
      const res = await this.#http.request({
        method: "POST",
        path: "/build",
        query: { ...buildQuery(req), session: session?.id },
        raw: req.context,
        contentType: "application/x-tar",
        signal: req.signal,
      });
      await readJsonLines(res.body ?? emptyStream(), (msg) => {
        if (msg.id === "moby.buildkit.trace" && typeof msg.aux === "string") trace.push(msg.aux);
        else if (msg.id === "moby.image.id") imageId = String((msg.aux as { ID?: unknown } | undefined)?.ID ?? "");
        else if (typeof msg.stream === "string") for (const line of msg.stream.split("\n")) if (line.trim()) req.onLine(line);
        failure ??= streamError(msg);
      });
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw err;
    } finally {
      await session?.close();
    }
    trace.flush();
    const failed = trace.failure();
    if (failure !== null || failed) {
      const detail = failure ?? failed?.error ?? "unknown error";
      // A step SIGKILLed (137) while the builds' memory cap was being hit: the cap killed it.
      if (limits && /exit code: 137\b/.test(detail) && (await limits.hitMemoryLimit())) throw outOfMemory(failed?.step, limits.limits);
      const secrets = Object.values(req.secrets ?? {}).map((v) => v.reveal());
      throw new StepError(
        failed ? describeFailedStep(failed, secrets) : `image build failed: ${detail}`,
        failed ? "fix that step (its whole output is in the build log) and deploy again" : undefined,
      );
    }
    if (!imageId) {
      const image = await this.#http.json<{ Id: string }>({ path: `/images/${enc(req.tag)}/json` });
      imageId = image.Id;
    }
    return { imageId, cachedSteps: trace.cachedSteps() };
  }

  async removeImage(ref: string, { force = true }: { force?: boolean } = {}): Promise<void> {
    await this.#http.send({ method: "DELETE", path: `/images/${enc(ref)}`, query: { force }, okStatuses: [404] });
  }

  /** `docker load`: an image tarball (docker or OCI archive) into the engine. */
  async loadImage(tar: ReadableStream<Uint8Array> | Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.#streamed(
      { method: "POST", path: "/images/load", query: { quiet: "1" }, raw: tar, contentType: "application/x-tar", signal },
      (message) => new KilnError("unavailable", `docker load failed: ${message}`),
    );
  }

  async listImages(labels: Labels): Promise<{ id: string; tags: string[]; labels: Labels }[]> {
    const images = await this.#http.json<{ Id: string; RepoTags: string[] | null; Labels: Labels | null }[]>({
      path: "/images/json",
      query: { filters: labelFilters(labels) },
    });
    return images.map((img) => ({
      id: img.Id,
      tags: (img.RepoTags ?? []).filter((t) => t !== "<none>:<none>"),
      labels: img.Labels ?? {},
    }));
  }

  async listAllImages(): Promise<ImageSummary[]> {
    const images = await this.#http.json<{ Id: string; RepoTags: string[] | null; Labels: Labels | null; Created: number }[]>({ path: "/images/json" });
    return images.map((img) => ({
      id: img.Id,
      tags: (img.RepoTags ?? []).filter((t) => t !== "<none>:<none>"),
      labels: img.Labels ?? {},
      createdAt: img.Created * 1000,
    }));
  }

  async imagesInUse(): Promise<Set<string>> {
    const list = await this.#http.json<{ ImageID: string }[]>({ path: "/containers/json", query: { all: true } });
    return new Set(list.map((c) => c.ImageID));
  }

  /**
   * Create the named volume when absent. One that exists is kept as is (its labels and data
   * untouched); the engine's create is idempotent too, so a racer's volume is just as good.
   */
  async ensureVolume(name: string, labels: Labels): Promise<void> {
    const body = volumeCreateBody(name, labels);
    const status = await this.#http.send({ path: `/volumes/${enc(name)}`, okStatuses: [404] });
    if (status !== 404) return;
    await this.#http.send({ method: "POST", path: "/volumes/create", json: body });
  }

  /** Remove a named volume (never forced). Absent is fine; one a container holds (any state) is a conflict naming it. */
  async removeVolume(name: string): Promise<void> {
    checkVolumeName(name);
    const status = await this.#http.send({ method: "DELETE", path: `/volumes/${enc(name)}`, okStatuses: [404, 409] });
    if (status !== 409) return;
    const holders = await this.#http.json<{ Id: string; Names?: string[] | null }[]>({
      path: "/containers/json",
      query: { all: true, filters: JSON.stringify({ volume: [name] }) },
    });
    const names = holders.map((c) => (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ""));
    const shown = names.length ? `${names.slice(0, 5).join(", ")}${names.length > 5 ? ", …" : ""}` : "a container";
    throw new KilnError(
      "conflict",
      `Docker volume ${name} is in use by ${names.length > 1 ? "containers" : "container"} ${shown}, so it was not removed`,
      `remove ${names.length > 1 ? "those containers" : "that container"} first (docker rm -f ${names[0] ?? "<container>"}), then remove the volume`,
    );
  }

  async listVolumes(labels: Labels): Promise<VolumeSummary[]> {
    const res = await this.#http.json<{ Volumes: { Name: string; Labels: Labels | null; CreatedAt?: string }[] | null }>({
      path: "/volumes",
      query: { filters: labelFilters(labels) },
    });
    return (res.Volumes ?? []).map((v) => ({
      name: v.Name,
      labels: v.Labels ?? {},
      createdAt: (v.CreatedAt && Date.parse(v.CreatedAt)) || 0,
    }));
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const res = await this.#http.json<{ Id: string }>({
      method: "POST",
      path: "/containers/create",
      query: { name: spec.name },
      json: containerCreateBody(spec),
    });
    // API 1.41 creates on one network only; the others are joined before the container starts.
    try {
      for (const net of spec.extraNetworks ?? []) {
        await this.#http.send({ method: "POST", path: `/networks/${enc(net.name)}/connect`, json: networkConnectBody(res.Id, net.aliases) });
      }
    } catch (err) {
      await this.removeContainer(res.Id);
      throw err;
    }
    return res.Id;
  }

  async listeningSockets(id: string): Promise<{ address: string; port: number }[]> {
    const res = await this.#http.request({ path: `/containers/${enc(id)}/json`, okStatuses: [404] });
    if (res.status === 404) {
      await res.arrayBuffer();
      return [];
    }
    const json = (await res.json()) as { State?: { Pid?: number; Running?: boolean } };
    return json.State?.Running && json.State.Pid ? listeningSockets(json.State.Pid) : [];
  }

  async imageUser(ref: string): Promise<string | null> {
    const image = await this.#http.json<{ Config?: { User?: string } | null }>({ path: `/images/${enc(ref)}/json` });
    return image.Config?.User || null;
  }

  async startContainer(id: string): Promise<void> {
    await this.#http.send({ method: "POST", path: `/containers/${enc(id)}/start`, okStatuses: [304] });
  }

  async stopContainer(id: string, timeoutSeconds = 10): Promise<void> {
    await this.#http.send({
      method: "POST",
      path: `/containers/${enc(id)}/stop`,
      query: { t: timeoutSeconds },
      okStatuses: [304, 404],
    });
  }

  async pauseContainer(id: string): Promise<void> {
    await this.#http.send({ method: "POST", path: `/containers/${enc(id)}/pause`, okStatuses: [409] });
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.#http.send({ method: "POST", path: `/containers/${enc(id)}/unpause`, okStatuses: [409] });
  }

  async removeContainer(id: string): Promise<void> {
    await this.#http.send({
      method: "DELETE",
      path: `/containers/${enc(id)}`,
      query: { force: true, v: true },
      // 404: already gone; 409: "removal … already in progress" (another remover got there first)
      okStatuses: [404, 409],
    });
  }

  /** Block until the container stops; its exit code. */
  async waitContainer(id: string, signal?: AbortSignal): Promise<number> {
    const res = await this.#http.json<{ StatusCode: number }>({ method: "POST", path: `/containers/${enc(id)}/wait`, signal });
    return res.StatusCode;
  }

  async inspectContainer(id: string): Promise<ContainerInfo | null> {
    const res = await this.#http.request({ path: `/containers/${enc(id)}/json`, okStatuses: [404] });
    if (res.status === 404) {
      await res.arrayBuffer();
      return null;
    }
    return containerInfo((await res.json()) as InspectJson);
  }

  async listContainers(labels: Labels): Promise<ContainerInfo[]> {
    const list = await this.#http.json<{ Id: string }[]>({
      path: "/containers/json",
      query: { all: true, filters: labelFilters(labels) },
    });
    // The list omits exit codes and restart counts; inspect each (a container may vanish meanwhile).
    const infos = await Promise.all(list.map((c) => this.inspectContainer(c.Id)));
    return infos.filter((c): c is ContainerInfo => c !== null);
  }

  /**
   * With `onEntry`, every stamped line goes there raw — its output stream, engine time and text,
   * repeats included — for a caller that keeps its own cursor (containers/log-cursor.ts); lines
   * without a stamp still go to `onLine`.
   */
  async followLogs(id: string, opts: FollowLogsOptions): Promise<void> {
    const since = opts.sinceSeconds;
    const stamped = opts.after !== undefined || opts.onStamp !== undefined || opts.onEntry !== undefined;
    const query = {
      follow: opts.follow ?? true,
      stdout: true,
      stderr: true,
      timestamps: stamped || undefined,
      // The engine takes fractional Unix seconds (`since` is inclusive: the line at `after` is dropped below).
      since:
        opts.after !== undefined ? sinceParam(opts.after)
        : since === undefined ? undefined
        : (since >= EPOCH_THRESHOLD ? since : Date.now() / 1000 - since).toFixed(3),
      until: opts.until === undefined ? undefined : sinceParam(opts.until),
    };
    if (opts.signal.aborted) return;
    try {
      // Read off the socket, not through fetch: a burst is ~100k one-line chunks a second (http1-reader.ts).
      const demux = new LogDemuxer((stream, line) => {
        if (!stamped) return opts.onLine("runtime", line);
        const s = splitStamp(line);
        if (!s) return opts.onLine("runtime", line);
        if (opts.after !== undefined && s.ns <= opts.after) return;
        if (opts.onEntry) return opts.onEntry(stream, s.ns, s.text);
        opts.onLine("runtime", s.text);
        opts.onStamp?.(s.ns);
      });
      await this.#http.stream({ path: `/containers/${enc(id)}/logs`, query, signal: opts.signal }, (bytes) => demux.push(bytes));
      demux.end();
    } catch (err) {
      if (opts.signal.aborted) return; // asked to stop: not a failure
      throw err;
    }
  }

  async tailLogs(id: string, n: number): Promise<string[]> {
    const res = await this.#http.request({
      path: `/containers/${enc(id)}/logs`,
      query: { stdout: true, stderr: true, tail: n },
    });
    const lines: string[] = [];
    await demuxLines(res.body ?? emptyStream(), (_stream, line) => lines.push(line));
    return lines.slice(-n);
  }

  /** A request whose answer is a JSON-lines progress stream that reports failure inside it. */
  async #streamed(req: EngineRequest, fail: (message: string) => KilnError): Promise<void> {
    const res = await this.#http.request(req);
    let error: string | null = null;
    try {
      await readJsonLines(res.body ?? emptyStream(), (msg) => {
        error ??= streamError(msg);
      });
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw err;
    }
    if (error !== null) throw fail(error);
  }
}

/** The port's follow options, plus raw entries for a caller that dedupes itself. */
export interface FollowLogsOptions {
  sinceSeconds?: number;
  after?: bigint;
  signal: AbortSignal;
  onLine: LogSink;
  onStamp?: (ns: bigint) => void;
  onEntry?: (stream: OutputStream, ns: bigint, text: string) => void;
  /** false: read what the engine keeps and end (default: follow). */
  follow?: boolean;
  /** Only lines up to this engine time (ns, inclusive). */
  until?: bigint;
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}
