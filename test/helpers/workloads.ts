/** Test workloads: small YAML files written into a Kiln's workloads folder. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureNodeBaseImage } from "../../src/adapters/docker/base-image.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";

/** The image every test workload runs (see workloadYaml). */
export const WORKLOAD_IMAGE = "kiln/node-runtime:20-host";
let imageReady: Promise<void> | null = null;

/**
 * Make sure WORKLOAD_IMAGE exists before a pool warms. On a fresh machine Kiln's node base image is
 * assembled from the host's node on first use, which takes a while: call this in beforeAll, with a
 * timeout that allows for it (WORKLOAD_IMAGE_TIMEOUT_MS), before starting Kiln.
 */
export function ensureWorkloadImage(): Promise<void> {
  imageReady ??= ensureNodeBaseImage(new DockerEngine()).then((ref) => {
    if (ref !== WORKLOAD_IMAGE) throw new Error(`test workloads run ${WORKLOAD_IMAGE}, but this host's node gives ${ref}`);
  });
  return imageReady;
}

/** Enough for ensureWorkloadImage on a cold machine, plus starting a Kiln. */
export const WORKLOAD_IMAGE_TIMEOUT_MS = 300_000;

/** A Node HTTP server on 8080 answering with /state's files and /secrets/key; writes /state/hits. */
export const ECHO_COMMAND = [
  "node",
  "-e",
  [
    "const http=require('http'),fs=require('fs');",
    "http.createServer((q,r)=>{",
    "if(q.url==='/write'){fs.writeFileSync('/state/hits',String(Date.now()));}",
    "let out='';",
    "try{for(const f of fs.readdirSync('/state').sort())out+=f+'='+fs.readFileSync('/state/'+f,'utf8').trim()+'\\n';}catch(e){out+='state-error '+e.code+'\\n';}",
    "try{out+='secret='+fs.readFileSync('/secrets/key','utf8').trim()+'\\n';}catch(e){out+='secret-error '+e.code+'\\n';}",
    "r.end(out);",
    "}).listen(8080);",
  ].join(""),
];

/**
 * A test workload: by default ECHO_COMMAND with state and secrets volumes. `stateless` leaves the
 * volumes out; `command` and `healthPath` swap the server (a lighter one, e.g. busybox httpd).
 */
export function workloadYaml(
  id: string,
  opts: { min?: number; max?: number; idle?: string; extra?: string; healthInterval?: string; stateless?: boolean; command?: string[]; healthPath?: string } = {},
): string {
  return [
    `id: ${id}`,
    `image: ${WORKLOAD_IMAGE}`,
    ...(opts.stateless ? [] : ["volumes:", "  state: { target: /state }", "  secrets: { target: /secrets }"]),
    `command: ${JSON.stringify(opts.command ?? ECHO_COMMAND)}`,
    "healthcheck:",
    // busybox wget: a health probe that costs far less than starting node every time
    `  test: ["CMD", "busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080${opts.healthPath ?? "/health"}"]`,
    // short, so tests see members ready quickly (Docker 20.10 probes first after one interval)
    `  interval: ${opts.healthInterval ?? "300ms"}`,
    "  timeout: 2s",
    "  retries: 5",
    "  start_period: 60s",
    'user: "1000:1000"',
    "ports: [8080]",
    "pool:",
    `  min_size: ${opts.min ?? 1}`,
    `  max_size: ${opts.max ?? 3}`,
    `  idle_timeout: ${opts.idle ?? "10m"}`,
    opts.extra ?? "",
  ].join("\n");
}

export function writeWorkload(dir: string, id: string, yaml: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${id}.yaml`), yaml);
}
