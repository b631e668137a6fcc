/**
 * One replica of a deployment's release → the ContainerSpec of its app container. Pure: the app
 * gets its env plus PORT, the deployment's labels (with its release, replica and port, so a
 * container made again after it vanished listens where the release said), the limits its settings
 * ask for (else Kiln's defaults), its named volumes, its start command, and no restart policy: Kiln
 * alone restarts apps, with its backoff and crash-loop count (reconcile/app-convergence.ts), so the
 * engine never races it; the app port is published on loopback for Caddy. Env values are revealed
 * here and nowhere earlier. It is created on Kiln's isolated network and joins the shared networks
 * its deployment names, where other apps reach it by its deployment name.
 */
import { deploymentLabels, volumeName } from "../core/labels.ts";
import type { ContainerSpec } from "../core/ports/runtime.ts";
import type { Secret } from "../core/secret.ts";
import type { AppSettings } from "../core/settings.ts";
import { limitsSpec, type Limits } from "./hardening.ts";

export const DEFAULT_APP_PORT = 3000;

/** The label holding the port an app container was made to listen on. */
export const APP_PORT_LABEL = "kiln.app-port";
export const RELEASE_LABEL = "kiln.release";
export const REPLICA_LABEL = "kiln.replica";

export interface AppContainerInput {
  /** The deployment's name and id, and the build the image came from. */
  name: string;
  deploymentId: string;
  buildId: string;
  /** The release this container serves (absent for a first build, whose release is made when it serves). */
  releaseId?: string;
  /** 0-based replica index, and a suffix that makes the container's name unique. */
  replica: number;
  suffix: string;
  image: string;
  env: Readonly<Record<string, Secret>>;
  /** The port the app listens on (settings, else the builder's guess, else 3000): resolvePort. */
  port: number;
  /** The loopback host port it is published on, kept across restarts (absent: the engine's pick). */
  hostPort?: number;
  settings: AppSettings;
  /** Kiln's default limits (KILN_APP_MEMORY_MB…); the settings' memory and cpus override them. */
  limits: Limits;
  network: string;
  /** User-named networks the app joins too (the deployment's `networks`). */
  sharedNetworks?: readonly string[];
  instanceId: string;
}

/** The port a release listens on: its settings', else what its builder said, else 3000. */
export function resolvePort(settings: Pick<AppSettings, "port">, buildPort: number | null | undefined): number {
  return settings.port ?? buildPort ?? DEFAULT_APP_PORT;
}

export function appContainerSpec(a: AppContainerInput): ContainerSpec {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.env)) env[k] = v.reveal();
  env.PORT = String(a.port);
  const s = a.settings;
  const limits: Limits = {
    ...a.limits,
    ...(s.memoryMb ? { memoryBytes: s.memoryMb * 1024 * 1024 } : {}),
    ...(s.cpus ? { nanoCpus: Math.round(s.cpus * 1e9) } : {}),
  };
  return {
    name: `kiln-${a.name}-${a.suffix}`,
    image: a.image,
    labels: {
      ...deploymentLabels(a.instanceId, a.deploymentId, a.buildId),
      [APP_PORT_LABEL]: String(a.port),
      [REPLICA_LABEL]: String(a.replica),
      ...(a.releaseId ? { [RELEASE_LABEL]: a.releaseId } : {}),
    },
    env,
    network: a.network,
    ...(a.sharedNetworks?.length ? { extraNetworks: a.sharedNetworks.map((name) => ({ name, aliases: [a.name] })) } : {}),
    publishPort: a.port,
    ...(a.hostPort ? { hostPort: a.hostPort } : {}),
    ...limitsSpec(limits),
    restartPolicy: "no",
    ...(s.startCommand ? { entrypoint: ["/bin/sh", "-c"], cmd: [s.startCommand] } : {}),
    ...(s.volumes.length ? { volumes: s.volumes.map((v) => ({ name: volumeName(a.deploymentId, v.name), target: v.path })) } : {}),
  };
}
