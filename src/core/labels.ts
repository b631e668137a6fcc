/** Names and labels of everything a deployment creates in Docker and Caddy. */
import type { Labels } from "./ports/runtime.ts";

export const MANAGED = "kiln.managed";

/** Which Kiln made a thing: several Kilns may share one engine, and each reconciles only its own. */
export const INSTANCE = "kiln.instance";

export function deploymentLabels(instanceId: string, deploymentId: string, buildId: string): Labels {
  return { [MANAGED]: "true", [INSTANCE]: instanceId, "kiln.kind": "app", "kiln.deployment": deploymentId, "kiln.build": buildId };
}

/** Labels of one pool member's container: its workload, its id, and the spec it was made from. */
/** On a pool member's container: the pools node whose slots it binds (src/cluster/node-lock.ts). */
export const NODE = "kiln.node";

export function memberLabels(instanceId: string, workloadId: string, memberId: string, specHash: string): Labels {
  return { [MANAGED]: "true", [INSTANCE]: instanceId, "kiln.kind": "pool-member", "kiln.workload": workloadId, "kiln.member": memberId, "kiln.spec-hash": specHash };
}

/** The label filter that selects this instance's app containers and images. */
export function instanceAppFilter(instanceId: string): Labels {
  return { [MANAGED]: "true", [INSTANCE]: instanceId, "kiln.kind": "app" };
}

/** Labels put on the images a deployment's builds produce. */
export function imageLabels(instanceId: string, deploymentId: string, buildId: string): Labels {
  return deploymentLabels(instanceId, deploymentId, buildId);
}

export function imageTag(name: string, buildId: string): string {
  return `kiln/app-${name}:${buildId}`;
}

/** The Docker volume behind an app's named volume: by deployment id, so a new app of the same name never gets it. */
export function volumeName(deploymentId: string, name: string): string {
  return `kiln-${deploymentId}-${name}`;
}

/** Labels of an app's volume (kept on stop; removed on delete only when asked). */
export function volumeLabels(instanceId: string, deploymentId: string, name: string): Labels {
  return { [MANAGED]: "true", [INSTANCE]: instanceId, "kiln.kind": "app-volume", "kiln.deployment": deploymentId, "kiln.volume": name };
}
