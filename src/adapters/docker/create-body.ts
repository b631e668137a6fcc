/**
 * ContainerSpec → the body of `POST /containers/create`. Pure, so the hardening every Kiln
 * container gets is visible (and tested) in one place:
 * all capabilities dropped, no-new-privileges, an init process, limits on memory/CPU/pids,
 * rotated logs, and a published port bound to 127.0.0.1 only (Caddy is the way in).
 * Also the bodies of the network calls: Kiln's own network is a bridge with inter-container
 * traffic off, so its containers reach neither each other nor (through 127.0.0.1) the host's services.
 * And named volumes: their name check and `POST /volumes/create` body.
 */
import { badRequest } from "../../core/errors.ts";
import type { ContainerSpec, Labels, NetworkKind } from "../../core/ports/runtime.ts";

export interface CreateContainerBody {
  Image: string;
  Labels: Record<string, string>;
  Env: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  User?: string;
  Healthcheck?: { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
  ExposedPorts?: Record<string, Record<string, never>>;
  HostConfig: {
    NetworkMode: string;
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
    Memory: number;
    NanoCpus: number;
    PidsLimit: number;
    RestartPolicy: { Name: ContainerSpec["restartPolicy"]; MaximumRetryCount?: number };
    SecurityOpt: string[];
    CapDrop: string[];
    CapAdd?: string[];
    Init: boolean;
    ReadonlyRootfs: boolean;
    Tmpfs?: Record<string, string>;
    Binds?: string[];
    Mounts?: (
      | { Type: "bind"; Source: string; Target: string; ReadOnly: boolean; BindOptions?: { Propagation: string } }
      | { Type: "volume"; Source: string; Target: string; ReadOnly: false }
    )[];
    LogConfig: { Type: "json-file"; Config: Record<string, string> };
  };
}

/**
 * Where Docker keeps an app's output until Kiln reads it. Docker 20.10's follow skips a whole file
 * (and later re-reads one) when the writer rotates twice while the follow is still in an older
 * file — it reads JSON slower than an app can write it, so a burst leaves it behind. A file larger
 * than a burst's backlog (1,000,000 lines of ~100 bytes are ~170 MB as json-file) keeps it within
 * one rotation; two files keep ~2M such lines for a Kiln that was down.
 */
export const APP_LOG_CONFIG = { Type: "json-file", Config: { "max-size": "200m", "max-file": "2" } } as const;

/** How often Docker restarts a crashing container before giving up (on-failure). */
export const MAX_RESTARTS = 5;

export function containerCreateBody(spec: ContainerSpec): CreateContainerBody {
  const port = spec.publishPort === undefined ? undefined : `${spec.publishPort}/tcp`;
  const body: CreateContainerBody = {
    Image: spec.image,
    Labels: { ...spec.labels },
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    HostConfig: {
      NetworkMode: spec.network,
      Memory: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit,
      RestartPolicy:
        spec.restartPolicy === "on-failure"
          ? { Name: "on-failure", MaximumRetryCount: MAX_RESTARTS }
          : { Name: spec.restartPolicy },
      SecurityOpt: ["no-new-privileges:true"],
      CapDrop: ["ALL"],
      ...(spec.capAdd?.length ? { CapAdd: [...spec.capAdd] } : {}),
      Init: true,
      ReadonlyRootfs: spec.readOnlyRootfs ?? false,
      LogConfig: { Type: APP_LOG_CONFIG.Type, Config: { ...APP_LOG_CONFIG.Config } },
    },
  };
  if (spec.cmd) body.Cmd = [...spec.cmd];
  // An empty list is sent as is: the engine then drops the image's ENTRYPOINT instead of inheriting it.
  if (spec.entrypoint) body.Entrypoint = [...spec.entrypoint];
  if (spec.user) body.User = spec.user;
  if (port) {
    body.ExposedPorts = { [port]: {} };
    // HostPort "" lets the engine pick a free port; HostIp keeps it off public interfaces.
    body.HostConfig.PortBindings = { [port]: [{ HostIp: "127.0.0.1", HostPort: spec.hostPort ? String(spec.hostPort) : "" }] };
  }
  if (spec.tmpfs) body.HostConfig.Tmpfs = { ...spec.tmpfs };
  if (spec.binds) body.HostConfig.Binds = [...spec.binds];
  if (spec.mounts?.length) {
    body.HostConfig.Mounts = spec.mounts.map((m) => ({
      Type: "bind" as const,
      Source: m.source,
      Target: m.target,
      ReadOnly: m.readOnly,
      ...(m.propagation ? { BindOptions: { Propagation: m.propagation } } : {}),
    }));
  }
  if (spec.volumes?.length) {
    const volumes = spec.volumes.map((v) => ({ Type: "volume" as const, Source: checkVolumeName(v.name), Target: v.target, ReadOnly: false as const }));
    body.HostConfig.Mounts = [...(body.HostConfig.Mounts ?? []), ...volumes];
  }
  if (spec.healthcheck) {
    const ns = (ms: number) => Math.round(ms * 1e6);
    const h = spec.healthcheck;
    body.Healthcheck = { Test: [...h.test], Interval: ns(h.intervalMs), Timeout: ns(h.timeoutMs), Retries: h.retries, StartPeriod: ns(h.startPeriodMs) };
  }
  return body;
}

/** The bridge option that turns traffic between a network's containers off (`docker network create -o …=false`). */
export const ICC_OPTION = "com.docker.network.bridge.enable_icc";

export interface NetworkCreateBody {
  Name: string;
  Driver: "bridge";
  CheckDuplicate: true;
  Labels: Labels;
  Options: Record<string, string>;
}

export function networkCreateBody(name: string, labels: Labels, kind: NetworkKind): NetworkCreateBody {
  return {
    Name: name,
    Driver: "bridge",
    CheckDuplicate: true,
    Labels: { ...labels },
    Options: { [ICC_OPTION]: kind === "isolated" ? "false" : "true" },
  };
}

/** Whether a network (as the engine lists it) keeps its containers apart: a bridge with inter-container traffic off. */
export function isIsolatedNetwork(n: { Driver: string; Options?: Record<string, string> | null }): boolean {
  return n.Driver === "bridge" && n.Options?.[ICC_OPTION] === "false";
}

/** `POST /networks/{id}/connect`: a created container joins one more network, reachable there by its aliases. */
export function networkConnectBody(containerId: string, aliases: readonly string[]): { Container: string; EndpointConfig: { Aliases: string[] } } {
  return { Container: containerId, EndpointConfig: { Aliases: [...aliases] } };
}

/** What Docker accepts as a volume name (and nothing that could be read as a path). */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** The name, when Docker would take it as a named volume; else a bad_request saying what a name may be. */
export function checkVolumeName(name: string): string {
  if (!VOLUME_NAME.test(name)) {
    throw badRequest(
      `invalid volume name ${JSON.stringify(name.slice(0, 140))}`,
      "a volume name starts with a letter or digit, then up to 127 letters, digits, '_', '.' or '-'",
    );
  }
  return name;
}

export interface VolumeCreateBody {
  Name: string;
  Driver: "local";
  Labels: Labels;
}

/** `POST /volumes/create`: a local named volume carrying these labels. */
export function volumeCreateBody(name: string, labels: Labels): VolumeCreateBody {
  return { Name: checkVolumeName(name), Driver: "local", Labels: { ...labels } };
}
