/**
 * A deployment's build → the ContainerSpec of its app container. Pure: the app gets its env plus
 * PORT, the deployment's labels (and its port, so a container made again after it vanished listens
 * where the build said), the app limits, and no restart policy: Kiln alone restarts apps, with its
 * backoff and crash-loop count (reconcile/app-convergence.ts), so the engine never races it; the
 * app port is published on loopback for Caddy. Env values are revealed here and nowhere earlier. It is created on
 * Kiln's isolated network and joins the shared networks its deployment names, where other apps
 * reach it by its deployment name.
 */
import { containerName, deploymentLabels } from "../core/labels.ts";
import type { ContainerSpec } from "../core/ports/runtime.ts";
import type { Secret } from "../core/secret.ts";
import { limitsSpec, type Limits } from "./hardening.ts";

export const DEFAULT_APP_PORT = 3000;

/** The label holding the port an app container was made to listen on. */
export const APP_PORT_LABEL = "kiln.app-port";

export interface AppContainerInput {
  /** The deployment's name and id, and the build the image came from. */
  name: string;
  deploymentId: string;
  buildId: string;
  image: string;
  env: Readonly<Record<string, Secret>>;
  /** The port the app listens on; default 3000. */
  port?: number;
  limits: Limits;
  network: string;
  /** User-named networks the app joins too (the deployment's `networks`). */
  sharedNetworks?: readonly string[];
  instanceId: string;
}

export function appContainerSpec(a: AppContainerInput): ContainerSpec {
  const port = a.port ?? DEFAULT_APP_PORT;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.env)) env[k] = v.reveal();
  env.PORT = String(port);
  return {
    name: containerName(a.name, a.buildId),
    image: a.image,
    labels: { ...deploymentLabels(a.instanceId, a.deploymentId, a.buildId), [APP_PORT_LABEL]: String(port) },
    env,
    network: a.network,
    ...(a.sharedNetworks?.length ? { extraNetworks: a.sharedNetworks.map((name) => ({ name, aliases: [a.name] })) } : {}),
    publishPort: port,
    ...limitsSpec(a.limits),
    restartPolicy: "no",
  };
}
