/**
 * The edge: one Caddy container per Kiln (`kiln-edge-<instance>`), from the image of the host's own
 * caddy binary (static-image.ts, no registry needed), published on 127.0.0.1 only, joined to each
 * Swarm app's overlay network. The host's Caddy cannot resolve Swarm's DNS; the edge can, and
 * follows `tasks.<service>` (edge-config.ts). Its config is written to a file in a directory only
 * root reaches ($KILN_DATA_DIR/swarm-edge, bound at /run/kiln-edge), which it starts from — so the
 * engine restarting it (restart policy unless-stopped) brings the routes back — and loaded through
 * its admin API on a unix socket in the same directory. Hardened like every Kiln container
 * (create-body.ts): no capabilities, read-only root, limits; it keeps its host port across restarts.
 *
 *   const edge = new SwarmEdge({ runtime, swarm, instanceId, dataDir, network, image: () => … });
 *   await edge.start();              // adopt or make the container; edge.address = "127.0.0.1:<port>"
 *   await edge.join("kiln-swarm-<id>");
 *   await edge.apply(edgeConfig(apps, publicHost));
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { INSTANCE, MANAGED } from "../../core/labels.ts";
import type { ContainerRuntime, Labels } from "../../core/ports/runtime.ts";
import type { SwarmClient } from "./client.ts";
import { EDGE_ADMIN_ORIGIN, EDGE_ADMIN_SOCKET, EDGE_CONFIG_FILE, EDGE_DIR, EDGE_PORT, edgeConfig } from "./edge-config.ts";

export const EDGE_KIND = "swarm-edge";

/**
 * An edge's labels. `owner` is the Kiln it serves (its own id, $KILN_DATA_DIR/instance-id): several
 * Kilns of one cluster share `instanceId`, and each keeps its own edge, loaded from its own data dir.
 */
export function edgeLabels(instanceId: string, owner: string): Labels {
  return { [MANAGED]: "true", [INSTANCE]: instanceId, "kiln.kind": EDGE_KIND, "kiln.edge-owner": owner };
}

export interface SwarmEdgeDeps {
  runtime: Pick<ContainerRuntime, "listContainers" | "createContainer" | "startContainer" | "removeContainer" | "inspectContainer">;
  swarm: Pick<SwarmClient, "connect" | "disconnect">;
  instanceId: string;
  /** This Kiln's own id (several Kilns share instanceId): its edge is `kiln-edge-<owner>`. */
  owner: string;
  dataDir: string;
  /** The bridge network it is created on (Kiln's isolated one): where it is published from. */
  network: string;
  /** The image with the host's caddy in it (made when missing). */
  image: () => Promise<string>;
  /** A free loopback port to publish on, kept across the container's restarts. */
  pickHostPort: () => number;
  publicHost: string;
}

export class SwarmEdge {
  #id: string | null = null;
  #address: string | null = null;
  readonly #dir: string;

  constructor(private readonly d: SwarmEdgeDeps) {
    this.#dir = join(d.dataDir, "swarm-edge");
  }

  /** 127.0.0.1:<port>, where the host's Caddy sends Swarm apps' requests. */
  get address(): string {
    if (!this.#address) throw new KilnError("internal", "the Swarm edge is not started", "this is a bug in Kiln: main.ts starts it before the routes load");
    return this.#address;
  }

  get containerId(): string | null {
    return this.#id;
  }

  /** Adopt this Kiln's edge container when it runs, else make a new one (with no routes until `apply`). */
  async start(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const { "kiln.edge-owner": _, ...ofCluster } = edgeLabels(this.d.instanceId, this.d.owner);
    for (const c of await this.d.runtime.listContainers(ofCluster)) {
      const owner = c.labels["kiln.edge-owner"];
      if (owner !== undefined && owner !== this.d.owner) continue; // another Kiln's edge
      // Ours, or one from before edges had owners (a lone Kiln's, with our name): adopted or replaced.
      if (owner === this.d.owner && c.running && c.published && !this.#id) {
        this.#id = c.id;
        this.#address = c.published;
        continue;
      }
      await this.d.runtime.removeContainer(c.id).catch(() => {});
    }
    if (this.#id) return;
    await this.#writeConfig(edgeConfig([], this.d.publicHost));
    const id = await this.d.runtime.createContainer({
      name: `kiln-edge-${this.d.owner}`,
      image: await this.d.image(),
      labels: edgeLabels(this.d.instanceId, this.d.owner),
      env: { HOME: "/tmp", XDG_CONFIG_HOME: "/tmp", XDG_DATA_HOME: "/tmp" },
      cmd: ["caddy", "run", "--config", `${EDGE_DIR}/${EDGE_CONFIG_FILE}`],
      entrypoint: [],
      network: this.d.network,
      publishPort: EDGE_PORT,
      hostPort: this.d.pickHostPort(),
      memoryBytes: 256 * 1024 * 1024,
      nanoCpus: 1_000_000_000,
      pidsLimit: 256,
      restartPolicy: "unless-stopped",
      readOnlyRootfs: true,
      tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=16m" },
      binds: [`${this.#dir}:${EDGE_DIR}`],
    });
    this.#id = id;
    await this.d.runtime.startContainer(id);
    const info = await this.d.runtime.inspectContainer(id);
    if (!info?.published) throw new KilnError("unavailable", "the Swarm edge container started without a published port", "check `docker logs kiln-edge-<instance>`");
    this.#address = info.published;
    await this.#waitAdmin();
  }

  /** Join an app's overlay network (nothing when joined already). */
  async join(network: string): Promise<void> {
    await this.d.swarm.connect(network, this.#requireId());
  }

  async leave(network: string): Promise<void> {
    if (this.#id) await this.d.swarm.disconnect(network, this.#id);
  }

  /** Make `config` the edge's: written for its next start, then loaded now. */
  async apply(config: Record<string, unknown>): Promise<void> {
    await this.#writeConfig(config);
    const res = await this.#admin("/load", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(config) });
    if (!res.ok) throw new KilnError("unavailable", `the Swarm edge refused its config: ${(await res.text()).slice(0, 300)}`, "this is a bug in Kiln's edge config");
    await res.arrayBuffer().catch(() => {});
  }

  /** Remove the edge container (a stop of the swarm engine, tests). */
  async remove(): Promise<void> {
    if (this.#id) await this.d.runtime.removeContainer(this.#id).catch(() => {});
    this.#id = this.#address = null;
  }

  async #writeConfig(config: Record<string, unknown>): Promise<void> {
    const file = join(this.#dir, EDGE_CONFIG_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify(config), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  #admin(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`http://${EDGE_ADMIN_ORIGIN}${path}`, { ...init, unix: join(this.#dir, EDGE_ADMIN_SOCKET), signal: AbortSignal.timeout(10_000) } as RequestInit);
  }

  async #waitAdmin(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      try {
        const res = await this.#admin("/config/");
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await Bun.sleep(100);
    }
    throw new KilnError("unavailable", "the Swarm edge's admin API did not answer", `check \`docker logs kiln-edge-${this.d.owner}\``);
  }

  #requireId(): string {
    if (!this.#id) throw new KilnError("internal", "the Swarm edge is not started", "this is a bug in Kiln: main.ts starts it first");
    return this.#id;
  }
}
