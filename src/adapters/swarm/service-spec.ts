/**
 * One release of a deployment → the body of `POST /services/create` (and `/services/{id}/update`)
 * on Docker Swarm. Pure, so everything a Swarm app gets is visible and tested in one place:
 * - `replicas` tasks from the settings, spread over the nodes (`spread` on node id);
 * - updates and rollbacks one task at a time, `start-first` (a new task starts and must be healthy
 *   before an old one stops), failure → automatic rollback, each new task watched for MONITOR;
 * - the app's health check as Docker's HEALTHCHECK (Swarm holds a task out of DNS until it passes);
 * - limits from the settings over Kiln's defaults (memory, CPUs, pids), labels kiln.* on the
 *   service and on its task containers, and the hardening app-spec.ts gives a container: all
 *   capabilities dropped, an init process, rotated logs, Kiln's restart rules mapped to Swarm's;
 * - `endpoint_mode: dnsrr` (no virtual IP: this kernel has no IPVS, and Kiln's edge follows
 *   `tasks.<service>` itself) on the app's own overlay network, which only the edge also joins, so
 *   apps do not reach one another (as on the isolated bridge).
 * Not expressible in a service spec on Docker 20.10: no-new-privileges (set it for the whole engine
 * with `"no-new-privileges": true` in daemon.json). Env values are revealed here and nowhere earlier.
 */
import { deploymentLabels, INSTANCE, MANAGED } from "../../core/labels.ts";
import type { Labels } from "../../core/ports/runtime.ts";
import type { Secret } from "../../core/secret.ts";
import { HEALTHCHECK_DEFAULTS, type AppSettings, type RestartPolicyName } from "../../core/settings.ts";
import type { Limits } from "../../containers/hardening.ts";
import { APP_PORT_LABEL, RELEASE_LABEL } from "../../containers/app-spec.ts";
import { APP_LOG_CONFIG } from "../docker/create-body.ts";

/** A Swarm service's kind label: Kiln's reconcilers know app containers by `kiln.kind=app`, never these. */
export const SERVICE_KIND = "app-service";
/** The kind label of a service's task containers (not `app`: Kiln does not restart them, Swarm does). */
export const TASK_KIND = "swarm-task";
/** On a task container: the deployment its service runs (not `kiln.deployment`, which means a container Kiln runs itself). */
export const TASK_OF_LABEL = "kiln.swarm.deployment";
/** How long Swarm watches a new task after it started before it counts the update step as good. */
export const MONITOR_MS = 5_000;
/** SIGTERM → SIGKILL grace of a task Swarm stops (an update's old task, a scale down). */
export const STOP_GRACE_MS = 10_000;
const NS = 1_000_000;

/** The service of a deployment: readable in `docker service ls`, unique by the deployment's id. */
export function serviceName(name: string, deploymentId: string): string {
  return `kiln-${name}-${deploymentId}`;
}

/** The app's own overlay network: its tasks and the edge, nothing else. */
export function appNetworkName(prefix: string, deploymentId: string): string {
  return `${prefix}-${deploymentId}`;
}

/** The name Swarm's DNS answers with every healthy task's address (dnsrr), on the service's networks. */
export function tasksName(service: string): string {
  return `tasks.${service}`;
}

export interface ServiceInput {
  name: string;
  deploymentId: string;
  buildId: string;
  releaseId?: string;
  /** The image as every node pulls it: the registry's reference. */
  image: string;
  env: Readonly<Record<string, Secret>>;
  port: number;
  settings: AppSettings;
  /** Kiln's default limits; the settings' memory and cpus override them. */
  limits: Limits;
  /** The app's overlay network. */
  network: string;
  instanceId: string;
  /** Start period of the health check when the app has none of its own (KILN_READY_TIMEOUT_S). */
  readyTimeoutMs: number;
  /** Bumped to make Swarm replace tasks whose spec did not change (a redeploy of the same image). */
  forceUpdate?: number;
}

export interface HealthcheckBody {
  Test: string[];
  Interval: number;
  Timeout: number;
  Retries: number;
  StartPeriod: number;
}

export interface ServiceSpecBody {
  Name: string;
  Labels: Labels;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels: Labels;
      Env: string[];
      Command?: string[];
      Args?: string[];
      Init: boolean;
      ReadOnly: boolean;
      CapabilityDrop: string[];
      StopGracePeriod: number;
      Healthcheck: HealthcheckBody;
    };
    Resources: { Limits: { NanoCPUs: number; MemoryBytes: number; Pids: number } };
    RestartPolicy: { Condition: "none" | "on-failure" | "any"; Delay: number; MaxAttempts: number; Window: number };
    Placement: { Preferences: { Spread: { SpreadDescriptor: string } }[] };
    Networks: { Target: string; Aliases: string[] }[];
    LogDriver: { Name: string; Options: Record<string, string> };
    ForceUpdate: number;
  };
  Mode: { Replicated: { Replicas: number } };
  UpdateConfig: UpdateBody;
  RollbackConfig: UpdateBody;
  EndpointSpec: { Mode: "dnsrr" };
}

interface UpdateBody {
  Parallelism: number;
  Delay: number;
  FailureAction: "pause" | "continue" | "rollback";
  Monitor: number;
  MaxFailureRatio: number;
  Order: "start-first" | "stop-first";
}

/** Kiln's restart rules in Swarm's words: `always` → any exit, `on-failure` → non-zero, `never` → none. */
export function swarmRestart(policy: RestartPolicyName): ServiceSpecBody["TaskTemplate"]["RestartPolicy"] {
  const Condition = policy === "always" ? "any" : policy === "on-failure" ? "on-failure" : "none";
  return { Condition, Delay: 1_000 * NS, MaxAttempts: 0, Window: 0 };
}

/**
 * The status codes that pass: the one asked for, else 2xx/3xx for an app health check, else any
 * HTTP answer (an app without a health check is up once it answers at all).
 */
export function passingStatus(settings: Pick<AppSettings, "healthcheck">): string {
  const h = settings.healthcheck;
  if (!h) return "[1-5][0-9][0-9]";
  return h.expectStatus !== null ? String(h.expectStatus) : "[23][0-9][0-9]";
}

/**
 * The HEALTHCHECK command: GET http://127.0.0.1:<port><path> inside the task with the first HTTP
 * client in the image that gets a status (curl, node, python3, then wget: busybox's static wget
 * crashes in some images), matched with a shell `case` pattern. An image with a shell but none of
 * them passes once it runs (Kiln's edge still retries a task that
 * does not answer). The URL is single-quoted for the shell (a path may hold any printable character).
 */
export function healthcheckTest(settings: Pick<AppSettings, "healthcheck">, port: number): string[] {
  const path = settings.healthcheck?.path ?? "/";
  const secs = Math.max(1, Math.ceil((settings.healthcheck?.timeoutMs ?? HEALTHCHECK_DEFAULTS.timeoutMs) / 1000));
  const url = `http://127.0.0.1:${port}${path}`;
  const script = [
    `u=${shellQuote(url)}`,
    `s=; have=`,
    `if command -v curl >/dev/null 2>&1; then have=1; s=$(curl -s -o /dev/null -m ${secs} -w '%{http_code}' "$u"); fi`,
    `if [ -z "$s" ] && command -v node >/dev/null 2>&1; then have=1; s=$(node -e 'require("http").get(process.argv[1],r=>{console.log(r.statusCode);process.exit(0)}).on("error",()=>process.exit(1))' "$u"); fi`,
    `if [ -z "$s" ] && command -v python3 >/dev/null 2>&1; then have=1; s=$(python3 -c 'import sys,urllib.request as q,urllib.error as e
try: print(q.urlopen(sys.argv[1],timeout=${secs}).status)
except e.HTTPError as x: print(x.code)' "$u"); fi`,
    `if [ -z "$s" ] && command -v wget >/dev/null 2>&1; then have=1; s=$(wget -q -S -O /dev/null -T ${secs} "$u" 2>&1 | grep -o 'HTTP/[0-9.]* [0-9]*' | tail -n 1 | cut -d ' ' -f 2); fi`,
    `[ -n "$have" ] || exit 0`,
    `case "$s" in ${passingStatus(settings)}) exit 0;; *) exit 1;; esac`,
  ].join("\n");
  return ["CMD-SHELL", script];
}

/** One shell word holding `s` as it is. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export function healthcheckBody(settings: AppSettings, port: number, readyTimeoutMs: number): HealthcheckBody {
  const h = settings.healthcheck;
  return {
    Test: healthcheckTest(settings, port),
    Interval: (h?.intervalMs ?? HEALTHCHECK_DEFAULTS.intervalMs) * NS,
    Timeout: (h?.timeoutMs ?? HEALTHCHECK_DEFAULTS.timeoutMs) * NS,
    Retries: 3,
    StartPeriod: (h?.startPeriodMs ?? readyTimeoutMs) * NS,
  };
}

/** Labels of the service itself: a deployment's, kind app-service, with its release and port. */
export function serviceLabels(a: Pick<ServiceInput, "instanceId" | "deploymentId" | "buildId" | "releaseId" | "port">): Labels {
  return {
    ...deploymentLabels(a.instanceId, a.deploymentId, a.buildId),
    "kiln.kind": SERVICE_KIND,
    [APP_PORT_LABEL]: String(a.port),
    ...(a.releaseId ? { [RELEASE_LABEL]: a.releaseId } : {}),
  };
}

/** Labels of the task containers: Kiln's, but not an app container's (see TASK_KIND). */
export function taskLabels(a: Pick<ServiceInput, "instanceId" | "deploymentId" | "buildId">): Labels {
  return { [MANAGED]: "true", [INSTANCE]: a.instanceId, "kiln.kind": TASK_KIND, [TASK_OF_LABEL]: a.deploymentId, "kiln.build": a.buildId };
}

export function serviceSpec(a: ServiceInput): ServiceSpecBody {
  const s = a.settings;
  const env = Object.entries(a.env).map(([k, v]) => `${k}=${v.reveal()}`);
  env.push(`PORT=${a.port}`);
  const limits: Limits = {
    ...a.limits,
    ...(s.memoryMb ? { memoryBytes: s.memoryMb * 1024 * 1024 } : {}),
    ...(s.cpus ? { nanoCpus: Math.round(s.cpus * 1e9) } : {}),
  };
  const update: UpdateBody = { Parallelism: 1, Delay: 0, FailureAction: "rollback", Monitor: MONITOR_MS * NS, MaxFailureRatio: 0, Order: "start-first" };
  return {
    Name: serviceName(a.name, a.deploymentId),
    Labels: serviceLabels(a),
    TaskTemplate: {
      ContainerSpec: {
        Image: a.image,
        Labels: taskLabels(a),
        Env: env,
        ...(s.startCommand ? { Command: ["/bin/sh", "-c"], Args: [s.startCommand] } : {}),
        Init: true,
        ReadOnly: false,
        CapabilityDrop: ["ALL"],
        StopGracePeriod: STOP_GRACE_MS * NS,
        Healthcheck: healthcheckBody(s, a.port, a.readyTimeoutMs),
      },
      Resources: { Limits: { NanoCPUs: limits.nanoCpus, MemoryBytes: limits.memoryBytes, Pids: limits.pids } },
      RestartPolicy: swarmRestart(s.restartPolicy),
      Placement: { Preferences: [{ Spread: { SpreadDescriptor: "node.id" } }] },
      Networks: [{ Target: a.network, Aliases: [a.name] }],
      LogDriver: { Name: APP_LOG_CONFIG.Type, Options: { ...APP_LOG_CONFIG.Config } },
      ForceUpdate: a.forceUpdate ?? 0,
    },
    Mode: { Replicated: { Replicas: s.replicas } },
    UpdateConfig: update,
    // A rollback (Swarm's own after a failed update, or one Kiln asks for) goes the same careful way, and stops if it fails.
    RollbackConfig: { ...update, FailureAction: "pause" },
    EndpointSpec: { Mode: "dnsrr" },
  };
}
