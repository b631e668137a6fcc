/**
 * One message of Docker's event stream (GET /events, API 1.41) → a ContainerEvent, or null for what
 * Kiln does not follow (exec_*, attach, rename, non-container events, anything malformed). Pure.
 * `health_status: healthy` becomes action `health` with `health: "healthy"`; `die` carries the exit
 * code the engine puts in `Actor.Attributes.exitCode`. The engine mixes the container's labels with
 * a few attributes of its own in `Actor.Attributes`; those are left out of `labels`.
 *
 *   decodeEngineEvent(JSON.parse(line)) // { kind: "container", action: "die", exitCode: 137, … }
 */
import type { ContainerAction, ContainerEvent } from "../../core/ports/engine-events.ts";
import type { Labels } from "../../core/ports/runtime.ts";

const ACTIONS: ReadonlySet<string> = new Set<ContainerAction>(["create", "start", "die", "oom", "kill", "stop", "restart", "destroy"]);
/** Attributes the engine adds beside the labels. */
const NOT_LABELS = new Set(["image", "name", "exitCode", "signal", "execID"]);
const HEALTH = new Set(["starting", "healthy", "unhealthy"]);

export function decodeEngineEvent(msg: unknown): ContainerEvent | null {
  if (!msg || typeof msg !== "object") return null;
  const m = msg as Record<string, unknown>;
  if (m.Type !== "container") return null;
  const raw = typeof m.Action === "string" ? m.Action : typeof m.status === "string" ? m.status : "";
  const actor = (m.Actor ?? {}) as { ID?: unknown; Attributes?: Record<string, unknown> | null };
  const id = typeof actor.ID === "string" && actor.ID ? actor.ID : typeof m.id === "string" ? m.id : "";
  if (!id) return null;
  const attrs = actor.Attributes ?? {};
  const labels: Labels = {};
  for (const [k, v] of Object.entries(attrs)) if (!NOT_LABELS.has(k) && typeof v === "string") labels[k] = v;
  const at = typeof m.timeNano === "number" ? Math.floor(m.timeNano / 1e6) : typeof m.time === "number" ? m.time * 1000 : 0;
  const base = { kind: "container" as const, containerId: id, labels, at };
  if (raw.startsWith("health_status:")) {
    const health = raw.slice("health_status:".length).trim();
    return HEALTH.has(health) ? { ...base, action: "health", health: health as ContainerEvent["health"] } : null;
  }
  if (!ACTIONS.has(raw)) return null;
  const event: ContainerEvent = { ...base, action: raw as ContainerAction };
  if (raw === "die") {
    const code = Number(attrs.exitCode);
    if (typeof attrs.exitCode === "string" && Number.isInteger(code)) event.exitCode = code;
  }
  return event;
}
