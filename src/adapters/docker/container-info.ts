/** Engine JSON → Kiln's view of a container, and the label filters used to list things. Pure. */
import type { ContainerInfo, Labels } from "../../core/ports/runtime.ts";

/** The engine's container JSON (the parts Kiln reads). */
export interface InspectJson {
  Id: string;
  Name: string;
  RestartCount?: number;
  Config?: { Image?: string; Labels?: Labels | null };
  State?: { Status?: string; Running?: boolean; Paused?: boolean; ExitCode?: number; Health?: { Status?: string } | null };
  NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
}

/** "label" filters matching every given label. */
export function labelFilters(labels: Labels): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
}

/** The 127.0.0.1 binding of a container's published port, if any. */
export function publishedAddress(settings: InspectJson["NetworkSettings"]): string | null {
  for (const bindings of Object.values(settings?.Ports ?? {})) {
    for (const b of bindings ?? []) if (b.HostIp === "127.0.0.1" && b.HostPort) return `127.0.0.1:${b.HostPort}`;
  }
  return null;
}

export function containerInfo(json: InspectJson): ContainerInfo {
  return {
    id: json.Id,
    name: json.Name.replace(/^\//, ""),
    image: json.Config?.Image ?? "",
    labels: json.Config?.Labels ?? {},
    running: json.State?.Running ?? false,
    status: json.State?.Status ?? "unknown",
    exitCode: json.State?.ExitCode ?? 0,
    restartCount: json.RestartCount ?? 0,
    published: publishedAddress(json.NetworkSettings),
    health: healthOf(json.State?.Health?.Status),
    paused: json.State?.Paused ?? false,
  };
}

function healthOf(status: string | undefined): ContainerInfo["health"] {
  return status === "starting" || status === "healthy" || status === "unhealthy" ? status : null;
}
