/**
 * The registry every Swarm node pulls app images from. Either one the operator runs (KILN_REGISTRY,
 * reachable from every node), or Debian's `docker-registry` (the Distribution registry, no image to
 * pull) that Kiln runs itself on 127.0.0.1:<port>, storing under $KILN_DATA_DIR/registry, and keeps
 * running (Supervisor: restarted with backoff when it dies). A loopback registry is insecure-allowed
 * by dockerd by default (127.0.0.0/8), and on one node that is enough; further nodes need an address
 * they reach (KILN_REGISTRY, see README "Kiln on Docker Swarm"). Each start of Kiln's own registry runs
 * its garbage-collect first (the blobs of images pruned while it ran: ./registry-prune.ts).
 *
 *   const reg = new LocalRegistry({ dataDir, port: 5055, env, log });
 *   await reg.start();                      // answers GET /v2/ once it resolves
 *   const ref = pushRef(reg.address, imageTag);   // "127.0.0.1:5055/kiln/app-web:abc"
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { logTail, spawnChild, Supervisor, type Child } from "../exec/supervisor.ts";
import { run } from "../exec/run.ts";

/** The registry's config (YAML, which JSON is a subset of): loopback only, deletes allowed, no auth. */
export function registryConfig(address: string, storageDir: string): Record<string, unknown> {
  return {
    version: 0.1,
    log: { level: "warn", fields: { service: "kiln-registry" } },
    storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true } },
    http: { addr: address, headers: { "X-Content-Type-Options": ["nosniff"] } },
  };
}

/** An image reference as pushed to and pulled from the registry: `<registry>/<repo>:<tag>`. */
export function pushRef(registry: string, image: string): { repo: string; tag: string; ref: string } {
  const at = image.lastIndexOf(":");
  const slash = image.lastIndexOf("/");
  const repoPart = at > slash ? image.slice(0, at) : image;
  const tag = at > slash ? image.slice(at + 1) : "latest";
  const repo = `${registry}/${repoPart}`;
  return { repo, tag, ref: `${repo}:${tag}` };
}

/** Whether a registry answers the Distribution API's base check at `address`. */
export async function registryAnswers(address: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200; // 401: one that wants credentials Kiln does not have
  } catch {
    return false;
  }
}

export interface LocalRegistryOptions {
  dataDir: string;
  port: number;
  /** The whole environment of the process (config.childEnv). */
  env: Record<string, string>;
  log: (line: string) => void;
  /** The binary; default `docker-registry` on PATH (Debian's package). */
  binary?: string;
}

export class LocalRegistry {
  readonly address: string;
  readonly #o: LocalRegistryOptions;
  readonly #sup: Supervisor;
  #child: Child | null = null;

  constructor(o: LocalRegistryOptions) {
    this.#o = o;
    this.address = `127.0.0.1:${o.port}`;
    this.#sup = new Supervisor({ name: "registry", log: o.log, restart: () => this.#spawn() });
  }

  /** Start it (or find one answering there already, e.g. left by a previous Kiln) and wait until it answers. */
  async start(): Promise<void> {
    if (await registryAnswers(this.address)) {
      this.#o.log(`registry: using the one answering on ${this.address}`);
      return;
    }
    this.#sup.resume();
    await this.#spawn();
  }

  async stop(): Promise<void> {
    if (this.#child) await this.#sup.stop(3000);
    this.#child = null;
  }

  async #spawn(): Promise<void> {
    const binary = this.#o.binary ?? Bun.which("docker-registry", { PATH: this.#o.env.PATH ?? "" });
    if (!binary) {
      throw new KilnError("unavailable", "KILN_ENGINE=swarm needs a registry and `docker-registry` is not installed", "apt-get install docker-registry (scripts/setup.sh does), or set KILN_REGISTRY to one every node reaches");
    }
    const dir = join(this.#o.dataDir, "registry");
    await mkdir(join(dir, "data"), { recursive: true, mode: 0o700 });
    const configFile = join(dir, "config.yml");
    await writeFile(configFile, JSON.stringify(registryConfig(this.address, join(dir, "data")), null, 2), { mode: 0o600 });
    // Before it serves (no push can come in): blobs no manifest references any more go
    // (manifests are deleted while it runs, registry-prune.ts).
    const gc = await run({ argv: [binary, "garbage-collect", configFile] }, { baseEnv: this.#o.env, timeoutMs: 120_000 });
    if (gc.code !== 0) this.#o.log(`registry: garbage-collect failed (the registry serves anyway): ${gc.tail.slice(-3).join(" | ")}`);
    const child = spawnChild({ argv: [binary, "serve", configFile], env: this.#o.env, logFile: join(dir, "registry.log") });
    for (let i = 0; i < 100; i++) {
      if (await registryAnswers(this.address, 500)) {
        this.#child = child;
        this.#sup.watch(child);
        this.#o.log(`registry: serving on ${this.address} (pid ${child.pid})`);
        return;
      }
      if (!child.running()) break;
      await Bun.sleep(100);
    }
    child.kill("SIGKILL");
    throw new KilnError("unavailable", `docker-registry did not answer on ${this.address}: ${logTail(child, 5).join(" | ") || "no output"}`, "is the port taken? set KILN_REGISTRY_PORT to a free one");
  }
}
