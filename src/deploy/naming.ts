/** Names and labels of everything a deployment creates in Docker and Caddy. */
import type { Labels } from "../core/ports/runtime.ts";

export const MANAGED = "kiln.managed";

export function deploymentLabels(deploymentId: string, buildId: string): Labels {
  return { [MANAGED]: "true", "kiln.kind": "app", "kiln.deployment": deploymentId, "kiln.build": buildId };
}

/** Labels put on the images a deployment's builds produce. */
export function imageLabels(deploymentId: string, buildId: string): Labels {
  return deploymentLabels(deploymentId, buildId);
}

export function imageTag(name: string, buildId: string): string {
  return `kiln/app-${name}:${buildId}`;
}

export function containerName(name: string, buildId: string): string {
  return `kiln-${name}-${buildId}`;
}
