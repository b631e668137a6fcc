/**
 * AppPlan + base image → Dockerfile text. Pure.
 *
 * Two stages: `build` installs (with BuildKit cache mounts for the package manager's cache),
 * copies the tree, builds and prunes, as root; the final stage copies /app from it, owned by
 * uid 1000, and runs as that user. No `# syntax=` line: BuildKit would try to pull the frontend
 * image, and Kiln may have no registry. Build-time secrets are never baked in: the install, build
 * and prune steps mount each one (`--mount=type=secret,id=NAME`, served by the build's BuildKit
 * session) and export it as an env var for that step only; the Dockerfile holds their names, never
 * their values. BuildKit does not key its cache on secret values, so those steps also bind-mount
 * a digest of the values from the context (secretsDigestFile): a changed value reruns them. The
 * app's env is given to its container at run time.
 *
 * A static site (kind "static") ends otherwise: the build stage finds the site's folder and the
 * final stage is the static image, Caddy serving that folder alone (static-site.ts). With nothing
 * to install or build, the build stage is the static image too: no Node.js at all.
 */
import { isImageRef } from "../../core/names.ts";
import { kindLabel, type AppPlan } from "./plan.ts";
import { staticStages } from "./static-site.ts";

export const APP_DIR = "/app";
/** The unprivileged user the app runs as (`app` in Kiln's base image; numeric works in any). */
export const APP_USER = "1000:1000";
export const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** Where a step sees the secrets' digest (read-only; it is there only for the cache key). */
export const SECRETS_DIGEST_TARGET = "/run/kiln-secrets.sha256";
const COREPACK_CACHE = { id: "kiln-corepack", target: "/root/.cache/node/corepack" };

export interface DockerfileOptions {
  /** The images for the plan's buildImage and runImage. */
  images: { build: string; run: string };
  /** The folder of the build context holding this Dockerfile and Kiln's other files (a static site's Caddyfile). */
  kilnDir: string;
  /**
   * The folder of the build context holding the app's tree. Only it is copied into the image, so
   * Kiln's files beside it never reach the app and need no step to delete them.
   */
  sourceDir: string;
  /**
   * Have corepack check npm's registry signatures on the pnpm/yarn it downloads. Off by
   * default: registry mirrors (this machine's included) often do not serve them, and corepack
   * then refuses to run. The download is still over TLS from the configured registry.
   */
  corepackSignatures?: boolean;
  /** Names of the build-time secrets (env var names): each is an env var while install, build and prune run. */
  secretNames?: string[];
  /**
   * Path in the context of a file holding a digest of the secrets' values, bind-mounted (read-only,
   * never in a layer) into the steps that get secrets so the build cache follows the values.
   */
  secretsDigestFile?: string;
}

interface CacheMount {
  /** Kiln's own cache ids, so builds of other tools on the same engine do not share them. */
  id: string;
  target: string;
  /** Only one build at a time may use it (yarn 1's cache is not safe to share). */
  locked?: boolean;
}

/** Where the package manager keeps its download cache, mounted into every step that runs it; then the plan's own caches. */
export function cacheMounts(plan: AppPlan): CacheMount[] {
  return [...packageManagerCaches(plan), ...(plan.caches ?? [])];
}

function packageManagerCaches(plan: AppPlan): CacheMount[] {
  switch (plan.packageManager) {
    case "npm":
      return [{ id: "kiln-npm", target: "/root/.npm" }];
    case "pnpm":
      return [{ id: "kiln-pnpm-store", target: "/root/.local/share/pnpm/store" }, COREPACK_CACHE];
    case "bun":
      return [{ id: "kiln-bun", target: "/root/.bun/install/cache" }];
    case "yarn":
      return plan.yarnBerry
        ? [{ id: "kiln-yarn-berry", target: "/root/.yarn/berry/cache" }, COREPACK_CACHE]
        : [{ id: "kiln-yarn", target: "/usr/local/share/.cache/yarn", locked: true }, COREPACK_CACHE];
    default:
      return [];
  }
}

/**
 * The environment of the build stage: package managers trust the host CA bundle and stay quiet.
 * Yarn 2+ gets no YARN_* settings (it trusts NODE_EXTRA_CA_CERTS): it refuses to start on any
 * setting it does not know, and yarn 1's cafile is one.
 */
const BUILD_ENV: [string, string][] = [
  ["NPM_CONFIG_CAFILE", CA_BUNDLE],
  ["NODE_EXTRA_CA_CERTS", CA_BUNDLE],
  ["YARN_CAFILE", CA_BUNDLE],
  ["NPM_CONFIG_UPDATE_NOTIFIER", "false"],
  ["NPM_CONFIG_FUND", "false"],
  ["NPM_CONFIG_AUDIT", "false"],
  ["COREPACK_ENABLE_DOWNLOAD_PROMPT", "0"],
  // Without "packageManager", use corepack's bundled known-good version instead of asking
  // repo.yarnpkg.com / the registry for the latest one.
  ["COREPACK_DEFAULT_TO_LATEST", "0"],
  // Yarn 2+ from the npm registry (@yarnpkg/cli-dist), which installs reach anyway, rather than
  // from repo.yarnpkg.com, which a machine that only reaches a registry cannot.
  ["COREPACK_NPM_REGISTRY", "https://registry.npmjs.org"],
  ["PATH", `${APP_DIR}/node_modules/.bin:$PATH`],
];

function buildEnv(plan: AppPlan, opts: DockerfileOptions): [string, string][] {
  const env = plan.yarnBerry ? BUILD_ENV.filter(([k]) => !k.startsWith("YARN_")) : BUILD_ENV;
  return opts.corepackSignatures ? env : [...env, ["COREPACK_INTEGRITY_KEYS", "0"]];
}

export function generateDockerfile(plan: AppPlan, opts: DockerfileOptions): string {
  assertImageRef(opts.images.build);
  assertImageRef(opts.images.run);
  const mounts = cacheMounts(plan);
  const secrets = [...(opts.secretNames ?? [])].sort();
  for (const name of secrets) assertEnvName(name);
  const digest = secrets.length > 0 ? opts.secretsDigestFile : undefined;
  if (digest !== undefined && !/^[A-Za-z0-9_./-]+$/.test(digest)) throw new Error(`not a plain context path: ${JSON.stringify(digest)}`);
  const run = (cmd: string) => runLine(mounts, cmd, secrets, digest);
  const siteOnly = plan.kind === "static" && !plan.installCmd && !plan.buildCmd;
  const src = plainFolder(opts.sourceDir);
  const header = [
    `# Generated by Kiln's zero-config builder (${describe(plan)}).`,
    ...Object.entries(plan.reasons).map(([choice, why]) => comment(`${choice}: ${why}`)),
    "",
  ];
  if (oneStage(plan, opts)) return [...header, ...runStage(plan, opts, `COPY --chown=${APP_USER} ${src}/ ./`)].join("\n");
  const lines: string[] = [
    ...header,
    `FROM ${siteOnly ? opts.images.run : opts.images.build} AS build`,
    `WORKDIR ${APP_DIR}`,
    ...(siteOnly ? [] : [envLine(buildEnv(plan, opts))]),
    ...(plan.buildEnv && Object.keys(plan.buildEnv).length > 0 ? [envLine(Object.entries(plan.buildEnv))] : []),
  ];
  const copyAll = [`COPY ${src}/ ./`];
  if (plan.manifests.length > 0) {
    lines.push(...copyManifests(plan.manifests, src));
    if (plan.installCmd) lines.push(run(plan.installCmd));
    if (plan.kind === "node") lines.push("ENV NODE_ENV=production");
    lines.push(...copyAll);
  } else {
    lines.push(...copyAll);
    if (plan.installCmd) lines.push(run(plan.installCmd));
    if (plan.kind === "node") lines.push("ENV NODE_ENV=production");
  }
  if (plan.buildCmd) lines.push(run(plan.buildCmd));
  if (plan.pruneCmd) lines.push(run(plan.pruneCmd));
  if (plan.kind === "static") {
    lines.push(...staticStages(plan, { image: opts.images.run, kilnDir: opts.kilnDir, user: APP_USER, envLine }));
    return lines.join("\n");
  }

  lines.push("", ...runStage(plan, opts, `COPY --from=build --chown=${APP_USER} ${APP_DIR} ${APP_DIR}`));
  return lines.join("\n");
}

/**
 * Nothing runs to build the app (no install, build or prune) and it runs on the image it would be
 * built on: one stage that copies the tree straight in, as a person would write it.
 */
function oneStage(plan: AppPlan, opts: DockerfileOptions): boolean {
  return plan.kind !== "static" && !plan.installCmd && !plan.buildCmd && !plan.pruneCmd && opts.images.build === opts.images.run;
}

/** The stage the app runs in: its env, its files (`copy`), the unprivileged user, the command. */
function runStage(plan: AppPlan, opts: DockerfileOptions, copy: string): string[] {
  const runtimeEnv: [string, string][] = [];
  if (plan.kind === "node") runtimeEnv.push(["NODE_ENV", "production"]);
  runtimeEnv.push(...Object.entries(plan.runEnv ?? {}));
  runtimeEnv.push(["PORT", String(plan.port)]);
  // A plan that sets PATH (a Python venv's bin/) replaces this one: in one ENV line the last PATH wins.
  if (plan.runEnv?.PATH === undefined) runtimeEnv.push(["PATH", `${APP_DIR}/node_modules/.bin:$PATH`]);
  return [
    `FROM ${opts.images.run}`,
    `WORKDIR ${APP_DIR}`,
    envLine(runtimeEnv),
    copy,
    `USER ${APP_USER}`,
    `EXPOSE ${plan.port}`,
    `CMD ${JSON.stringify(startCommand(plan.startCmd))}`,
    "",
  ];
}

/** The container's command: the start command run by sh, exec'd when it is a single command. */
export function startCommand(start: string): string[] {
  return ["sh", "-c", withExec(start)];
}

const NOT_EXECABLE = new Set(["exec", "if", "for", "while", "until", "case", "cd", "export", "set", "source", ".", "{", "!", "time"]);

/**
 * `exec <cmd>` when cmd is one simple command, so the app (not sh) is PID 1 and gets SIGTERM;
 * cmd as is when it is a list, pipeline, subshell or starts with an assignment or a keyword.
 */
export function withExec(cmd: string): string {
  const trimmed = cmd.trim();
  if (/[;&|\n\r()`]/.test(trimmed)) return trimmed;
  const first = trimmed.split(/\s+/)[0] ?? "";
  if (first === "" || first.includes("=") || NOT_EXECABLE.has(first)) return trimmed;
  return `exec ${trimmed}`;
}

/**
 * A RUN line; shell form when the command fits on one line, else the exec form of sh -c. Each
 * of `secrets` (env var names) is mounted (required: a build whose session lacks it fails) and
 * exported, value unchanged, for the command; `digestFile` (a context path) is bind-mounted so
 * the step's cache key follows the secrets' values.
 */
export function runLine(mounts: CacheMount[], cmd: string, secrets: string[] = [], digestFile?: string): string {
  const flags = [
    ...mounts.map((m) => `--mount=type=cache,id=${m.id},target=${m.target}${m.locked ? ",sharing=locked" : ""} `),
    ...(digestFile ? [`--mount=type=bind,source=${digestFile},target=${SECRETS_DIGEST_TARGET} `] : []),
    ...secrets.map((name) => `--mount=type=secret,id=${name},required=true `),
  ].join("");
  const full = secretExports(secrets) + cmd;
  const oneLine = !/[\r\n]/.test(cmd) && !/\\\s*$/.test(cmd) && !full.trimStart().startsWith("[");
  return `RUN ${flags}${oneLine ? full : JSON.stringify(["/bin/sh", "-c", full])}`;
}

/**
 * Shell that sets each secret's env var from its file at /run/secrets/NAME. `printf x` keeps a
 * trailing newline of the value (command substitution would strip it); `;` keeps the command's
 * own `&&`/`||` lists as they are. Names are env names, so they need no quoting.
 */
export function secretExports(secrets: string[], dir = "/run/secrets"): string {
  return secrets.map((n) => `${n}="$(cat ${dir}/${n} && printf x)" ; ${n}="\${${n}%x}" ; export ${n} ; `).join("");
}

function copyManifests(manifests: string[], src: string): string[] {
  const files = manifests.filter((m) => !m.endsWith("/"));
  const dirs = manifests.filter((m) => m.endsWith("/"));
  const out: string[] = [];
  if (files.length > 0) out.push(`COPY ${JSON.stringify([...files.map((f) => `${src}/${f}`), "./"])}`);
  for (const d of dirs) out.push(`COPY ${JSON.stringify([`${src}/${d}`, `./${d}`])}`);
  return out;
}

function plainFolder(dir: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(dir) || dir === "." || dir === "..") throw new Error(`not a plain context folder: ${JSON.stringify(dir)}`);
  return dir;
}

function envLine(pairs: [string, string][]): string {
  // A value with spaces or quotes is double-quoted ($VAR still expands inside, as in a shell).
  const value = (v: string) => (/^[A-Za-z0-9_./:$@%+,=-]*$/.test(v) ? v : JSON.stringify(v));
  return `ENV ${pairs.map(([k, v]) => `${k}=${value(v)}`).join(" \\\n    ")}`;
}

function describe(plan: AppPlan): string {
  return `${kindLabel(plan)}${plan.packageManager ? `, ${plan.packageManager}${plan.yarnBerry ? " 2+" : ""}` : ""}`;
}

function comment(text: string): string {
  return `# ${text.replace(/[\r\n]+/g, " ")}`;
}

function assertEnvName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not an env var name: ${JSON.stringify(name)}`);
}

function assertImageRef(ref: string): void {
  if (!isImageRef(ref)) throw new Error(`not an image reference: ${JSON.stringify(ref)}`);
}
