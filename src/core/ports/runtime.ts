/**
 * The container runtime: the only way Kiln talks to Docker. Implemented by
 * src/adapters/docker/engine.ts over the Engine API (unix socket), never the docker CLI.
 */
import type { LogSink } from "../logs.ts";
import type { Secret } from "../secret.ts";

export type Labels = Record<string, string>;

/** What Kiln wants a container to be; the adapter turns it into an Engine API create body. */
export interface ContainerSpec {
  name: string;
  image: string;
  labels: Labels;
  env: Record<string, string>;
  cmd?: string[];
  /** Overrides the image's ENTRYPOINT; `[]` clears it (then `cmd` is the whole command). */
  entrypoint?: string[];
  /** The network the container is created on: Kiln's isolated one (no traffic between its containers). */
  network: string;
  /** Networks the container joins too, before it starts (user-named shared networks), each with DNS aliases. */
  extraNetworks?: NetworkAttachment[];
  /** Container port to publish on 127.0.0.1 (host port chosen by the engine). */
  publishPort?: number;
  /**
   * The host port to publish it on, kept across restarts of the container (an app's replicas: a
   * restarted replica answers where it did, so Caddy's route needs no change). Absent: the engine picks
   * one at every start.
   */
  hostPort?: number;
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  restartPolicy: "no" | "on-failure" | "unless-stopped";
  readOnlyRootfs?: boolean;
  user?: string;
  /** Capabilities given back after all are dropped (one-shot helpers only, e.g. CHOWN). */
  capAdd?: string[];
  tmpfs?: Record<string, string>;
  binds?: string[];
  /** Bind mounts; `rslave` propagation lets mounts made later on the host appear inside (tenant slots). */
  mounts?: BindMount[];
  /** Named Docker volumes, mounted read-write at `target`; they outlive the container (e.g. /data across redeploys). */
  volumes?: VolumeMount[];
  /** Docker's HEALTHCHECK; the container counts as healthy once it passes. */
  healthcheck?: { test: string[]; intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number };
}

export interface NetworkAttachment {
  name: string;
  aliases: string[];
}

/**
 * How a network Kiln ensures treats traffic between its containers: `isolated` (Kiln's own network:
 * inter-container traffic off, so no member or app reaches another) or `shared` (a network the user
 * names for apps that must talk to each other).
 */
export type NetworkKind = "isolated" | "shared";

export interface VolumeMount {
  /** A named volume (`[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}`), made beforehand with ensureVolume. */
  name: string;
  target: string;
}

/** One named volume, as listVolumes sees it. */
export interface VolumeSummary {
  name: string;
  labels: Labels;
  /** When the engine made it (ms since the epoch). */
  createdAt: number;
}

export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
  propagation?: "rslave" | "rprivate";
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  labels: Labels;
  running: boolean;
  status: string; // created|running|exited|…
  exitCode: number;
  restartCount: number;
  /** host address the publishPort is bound to, e.g. 127.0.0.1:49153 */
  published: string | null;
  /** Docker's health status when the container has a healthcheck. */
  health: "starting" | "healthy" | "unhealthy" | null;
  paused: boolean;
}

export interface ImageBuildRequest {
  /** A tar stream of the build context (the source tree). */
  context: ReadableStream<Uint8Array> | Uint8Array;
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  tag: string;
  labels: Labels;
  buildArgs?: Record<string, string>;
  /** Build-time secrets by id, for `RUN --mount=type=secret,id=NAME` (at /run/secrets/NAME); never build args, layers or history. */
  secrets?: Record<string, Secret>;
  signal?: AbortSignal;
  /** Every output line of the build (BuildKit vertex names, RUN output). */
  onLine: (text: string) => void;
}

/** One image in the engine, as garbage collection sees it. */
export interface ImageSummary {
  id: string;
  /** repo:tag references; empty for a dangling image. */
  tags: string[];
  labels: Labels;
  /** When the engine made it (ms since the epoch). */
  createdAt: number;
}

export interface ContainerRuntime {
  ping(): Promise<void>;
  /**
   * Make sure a bridge network of this name and kind exists (default `isolated`). An isolated one
   * found with inter-container traffic on is recreated when nothing is attached, else refused.
   */
  ensureNetwork(name: string, labels: Labels, kind?: NetworkKind): Promise<void>;
  imageExists(ref: string): Promise<boolean>;
  /** `docker import`: make an image from a rootfs tar stream. */
  importImage(rootfsTar: ReadableStream<Uint8Array> | Uint8Array, ref: string, changes: string[]): Promise<void>;
  buildImage(req: ImageBuildRequest): Promise<{ imageId: string }>;
  /** Forced by default; `force: false` leaves an image a container uses (the engine answers 409: thrown). */
  removeImage(ref: string, opts?: { force?: boolean }): Promise<void>;
  /** Image refs (repo:tag) carrying all of the given labels. */
  listImages(labels: Labels): Promise<{ id: string; tags: string[]; labels: Labels }[]>;
  /** Every top-level image in the engine, dangling ones included, whoever made it (for garbage collection). */
  listAllImages(): Promise<ImageSummary[]>;
  /** The image ids every container in the engine (any state, any owner) was made from. */
  imagesInUse(): Promise<Set<string>>;
  /** Make sure a named volume exists (created with these labels when absent; an existing one is kept as is). */
  ensureVolume(name: string, labels: Labels): Promise<void>;
  /** Remove a named volume; absent is fine. In use by a container (any state) → a KilnError conflict naming it. */
  removeVolume(name: string): Promise<void>;
  /** Named volumes carrying all of the given labels. */
  listVolumes(labels: Labels): Promise<VolumeSummary[]>;
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Block until the container stops; its exit code. */
  waitContainer(id: string, signal?: AbortSignal): Promise<number>;
  /**
   * The TCP sockets the container's processes listen on (its network namespace, seen from the host);
   * none when it is not running. For an app that does not answer on $PORT: where does it listen?
   */
  listeningSockets(id: string): Promise<{ address: string; port: number }[]>;
  /** The user an image runs as (its USER), or null for root/unset. */
  imageUser(ref: string): Promise<string | null>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  /** Freeze every process (cgroup freezer): writers are quiesced for a consistent final sync. */
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  removeContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<ContainerInfo | null>;
  listContainers(labels: Labels): Promise<ContainerInfo[]>;
  /**
   * Stream stdout/stderr lines until the container stops or the signal aborts. With `after` (the
   * engine's time of the last line already seen, ns since the epoch) it resumes just after that line:
   * no gap, no duplicate. `onStamp` gets each line's engine time, after `onLine`.
   */
  followLogs(id: string, opts: { sinceSeconds?: number; after?: bigint; signal: AbortSignal; onLine: LogSink; onStamp?: (ns: bigint) => void }): Promise<void>;
  /** Last `n` lines of the container's output (for failure reasons). */
  tailLogs(id: string, n: number): Promise<string[]>;
}
