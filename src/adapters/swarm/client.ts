/**
 * The one narrow interface to Docker Swarm: the Engine API's swarm, services, tasks and overlay
 * network endpoints, and pushing an image to the registry every node pulls from — all through the
 * same EngineHttp as the Docker adapter (one socket, one error mapping). Bodies are built by the
 * pure service-spec.ts; nothing here decides policy.
 *
 *   const swarm = new SwarmClient(new EngineHttp("/var/run/docker.sock", "v1.41"));
 *   if (!(await swarm.state()).active) await swarm.init("127.0.0.1");
 *   const id = await swarm.createService(serviceSpec({ … }));
 */
import { KilnError } from "../../core/errors.ts";
import type { Labels } from "../../core/ports/runtime.ts";
import { readJsonLines, streamError, type EngineHttp } from "../docker/http.ts";
import { readServiceLogs, readTaskLogs, type ServiceLogRead } from "./service-logs.ts";
import type { ServiceSpecBody } from "./service-spec.ts";

/** The node's place in a swarm. */
export interface SwarmState {
  /** The node is in a swarm (`LocalNodeState` active). */
  active: boolean;
  /** It is a manager (services can be made through it). */
  manager: boolean;
  nodeId: string;
  /** Nodes in the swarm (known on a manager). */
  nodes: number;
}

/** A service as Kiln reads it back. */
export interface ServiceInfo {
  id: string;
  name: string;
  /** The spec's version: an update must name it (optimistic concurrency). */
  version: number;
  labels: Labels;
  spec: ServiceSpecBody;
  /** The last update's (or rollback's) state: updating, completed, paused, rollback_started, rollback_completed, rollback_paused; null before any. */
  updateState: string | null;
  updateMessage: string | null;
  /** When that update started (RFC 3339), null before any. */
  updateStartedAt: string | null;
}

/** One task (a replica's attempt) of a service. */
export interface TaskInfo {
  id: string;
  slot: number | null;
  nodeId: string;
  desiredState: string;
  state: string;
  /** Why it failed, as Swarm says it ("task: non-zero exit (1)", "container unhealthy"…). */
  error: string | null;
  image: string;
  containerId: string | null;
  /** The task's addresses on its networks (CIDR stripped), by network name. */
  addresses: Record<string, string[]>;
  updatedAt: string;
  /** When Swarm made the task (RFC 3339): none of its output is older. */
  createdAt: string;
}

interface RawService {
  ID: string;
  Version: { Index: number };
  Spec: ServiceSpecBody;
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string };
}

interface RawTask {
  ID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState: string;
  UpdatedAt: string;
  CreatedAt?: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
  Spec: { ContainerSpec?: { Image?: string } };
  NetworksAttachments?: { Network: { Spec: { Name: string } }; Addresses?: string[] }[];
}

/** `{"label":["k=v",…]}` for the engine's filters parameter. */
export function labelFilter(labels: Labels): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
}

/** X-Registry-Auth for a registry without auth (the engine wants the header on every push). */
export const NO_REGISTRY_AUTH = Buffer.from("{}").toString("base64url");

function serviceOf(raw: RawService): ServiceInfo {
  return {
    id: raw.ID,
    name: raw.Spec.Name,
    version: raw.Version.Index,
    labels: raw.Spec.Labels ?? {},
    spec: raw.Spec,
    updateState: raw.UpdateStatus?.State ?? null,
    updateMessage: raw.UpdateStatus?.Message ?? null,
    updateStartedAt: raw.UpdateStatus?.StartedAt ?? null,
  };
}

function taskOf(raw: RawTask): TaskInfo {
  const addresses: Record<string, string[]> = {};
  for (const a of raw.NetworksAttachments ?? []) addresses[a.Network.Spec.Name] = (a.Addresses ?? []).map((x) => x.split("/")[0]!);
  return {
    id: raw.ID,
    slot: raw.Slot ?? null,
    nodeId: raw.NodeID ?? "",
    desiredState: raw.DesiredState,
    state: raw.Status.State,
    error: raw.Status.Err ?? null,
    image: raw.Spec.ContainerSpec?.Image ?? "",
    containerId: raw.Status.ContainerStatus?.ContainerID ?? null,
    addresses,
    updatedAt: raw.UpdatedAt,
    createdAt: raw.CreatedAt ?? raw.UpdatedAt,
  };
}

export class SwarmClient {
  constructor(private readonly http: EngineHttp) {}

  async state(): Promise<SwarmState> {
    const info = await this.http.json<{ Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string; Nodes?: number } }>({ path: "/info" });
    const s = info.Swarm ?? {};
    return { active: s.LocalNodeState === "active", manager: !!s.ControlAvailable, nodeId: s.NodeID ?? "", nodes: s.Nodes ?? 0 };
  }

  /** `docker swarm init --advertise-addr <addr>`: a one-node swarm whose manager listens on addr:2377. */
  async init(advertiseAddr: string): Promise<string> {
    return this.http.json<string>({ method: "POST", path: "/swarm/init", json: { ListenAddr: `${advertiseAddr}:2377`, AdvertiseAddr: advertiseAddr } });
  }

  /** The token a worker joins with, and the manager's address. */
  async joinInfo(): Promise<{ workerToken: string }> {
    const s = await this.http.json<{ JoinTokens: { Worker: string } }>({ path: "/swarm" });
    return { workerToken: s.JoinTokens.Worker };
  }

  async nodes(): Promise<{ id: string; hostname: string; state: string; availability: string; role: string }[]> {
    const raw = await this.http.json<{ ID: string; Description?: { Hostname?: string }; Status: { State: string }; Spec: { Availability: string; Role: string } }[]>({ path: "/nodes" });
    return raw.map((n) => ({ id: n.ID, hostname: n.Description?.Hostname ?? "", state: n.Status.State, availability: n.Spec.Availability, role: n.Spec.Role }));
  }

  /** An attachable overlay network of this name, made when missing (Kiln's edge container joins it). */
  async ensureOverlay(name: string, labels: Labels): Promise<void> {
    if (await this.#networkId(name)) return;
    await this.http.send({ method: "POST", path: "/networks/create", json: { Name: name, Driver: "overlay", Attachable: true, CheckDuplicate: true, Labels: labels } });
  }

  async removeNetwork(name: string): Promise<void> {
    const id = await this.#networkId(name);
    if (id) await this.http.send({ method: "DELETE", path: `/networks/${id}`, okStatuses: [404] });
  }

  /** Networks with these labels (names). */
  async listNetworks(labels: Labels): Promise<string[]> {
    const nets = await this.http.json<{ Name: string }[]>({ path: "/networks", query: { filters: labelFilter(labels) } });
    return nets.map((n) => n.Name);
  }

  /** Attach a (non-swarm) container to a network; nothing when it is on it already. */
  async connect(network: string, containerId: string): Promise<void> {
    const id = await this.#networkId(network);
    if (!id) throw new KilnError("not_found", `network ${network} does not exist`);
    const c = await this.http.json<{ NetworkSettings: { Networks: Record<string, unknown> } }>({ path: `/containers/${containerId}/json` });
    if (network in c.NetworkSettings.Networks) return;
    await this.http.send({ method: "POST", path: `/networks/${id}/connect`, json: { Container: containerId } });
  }

  async disconnect(network: string, containerId: string): Promise<void> {
    const id = await this.#networkId(network);
    if (id) await this.http.send({ method: "POST", path: `/networks/${id}/disconnect`, json: { Container: containerId, Force: true }, okStatuses: [404, 403] });
  }

  async createService(spec: ServiceSpecBody): Promise<string> {
    const res = await this.http.json<{ ID: string }>({ method: "POST", path: "/services/create", json: spec, headers: { "X-Registry-Auth": NO_REGISTRY_AUTH } });
    return res.ID;
  }

  async inspectService(nameOrId: string): Promise<ServiceInfo | null> {
    const res = await this.http.request({ path: `/services/${encodeURIComponent(nameOrId)}`, okStatuses: [404] });
    if (res.status === 404) {
      await res.arrayBuffer();
      return null;
    }
    return serviceOf((await res.json()) as RawService);
  }

  /** Replace the spec (Swarm then rolls the tasks over as its UpdateConfig says); `version` is the one read. */
  async updateService(id: string, version: number, spec: ServiceSpecBody): Promise<void> {
    await this.http.send({ method: "POST", path: `/services/${id}/update`, query: { version }, json: spec, headers: { "X-Registry-Auth": NO_REGISTRY_AUTH } });
  }

  async removeService(nameOrId: string): Promise<void> {
    await this.http.send({ method: "DELETE", path: `/services/${encodeURIComponent(nameOrId)}`, okStatuses: [404] });
  }

  async listServices(labels: Labels): Promise<ServiceInfo[]> {
    const raw = await this.http.json<RawService[]>({ path: "/services", query: { filters: labelFilter(labels) } });
    return raw.map(serviceOf);
  }

  async listTasks(service: string): Promise<TaskInfo[]> {
    const raw = await this.http.json<RawTask[]>({ path: "/tasks", query: { filters: JSON.stringify({ service: [service] }) } });
    return raw.map(taskOf);
  }

  /** The service's output, every task's, each line with its task (./service-logs.ts). */
  serviceLogs(nameOrId: string, opts: ServiceLogRead): Promise<void> {
    return readServiceLogs(this.http, nameOrId, opts);
  }

  /** One task's output. */
  taskLogs(taskId: string, opts: ServiceLogRead): Promise<void> {
    return readTaskLogs(this.http, taskId, opts);
  }

  /** `docker tag <image> <repo>:<tag>`. */
  async tag(image: string, repo: string, tag: string): Promise<void> {
    await this.http.send({ method: "POST", path: `/images/${encodeURIComponent(image)}/tag`, query: { repo, tag } });
  }

  /** `docker push <repo>:<tag>`: the registry's failure arrives inside the progress stream. */
  async push(repo: string, tag: string, signal?: AbortSignal): Promise<void> {
    const res = await this.http.request({ method: "POST", path: `/images/${encodeURIComponent(repo)}/push`, query: { tag }, headers: { "X-Registry-Auth": NO_REGISTRY_AUTH }, ...(signal ? { signal } : {}) });
    let error: string | null = null;
    await readJsonLines(res.body ?? new ReadableStream({ start: (c) => c.close() }), (msg) => {
      error ??= streamError(msg);
    });
    if (error !== null) throw new KilnError("unavailable", `docker push ${repo}:${tag} failed: ${error}`, "check that the registry (KILN_REGISTRY, or the one Kiln runs) answers");
  }

  async #networkId(name: string): Promise<string | null> {
    const nets = await this.http.json<{ Id: string; Name: string }[]>({ path: "/networks", query: { filters: JSON.stringify({ name: [name] }) } });
    return nets.find((n) => n.Name === name)?.Id ?? null;
  }
}
