/**
 * A static site's part of the generated Dockerfile (kind "static"). Pure.
 *
 * The build stage (dockerfile-gen.ts: the Node image when there is an install or a build, else
 * the static image itself) ends with findSiteCommand: the first of the plan's folders holding an
 * index.html is copied to /kiln-site, without node_modules or links leading out of it, readable by
 * everyone. When none holds one the step prints missingSiteMessage and fails; KilnBuilder turns
 * that into the build's error (missingSiteError). The final stage is the static image (Caddy, no
 * Node.js, runtime-images.ts) holding only the site in /srv, owned by root, and the Caddyfile
 * (static-caddyfile.ts) Kiln writes into the build context beside the Dockerfile; Kiln's own
 * folder of the context was removed from the tree before the site was copied.
 */
import { StepError } from "../../core/errors.ts";
import type { AppPlan, StaticServe } from "./plan.ts";
import { staticCaddyfile } from "./static-caddyfile.ts";

/** Where the site is served from in the image. */
export const SITE_ROOT = "/srv";
export const CADDYFILE_TARGET = "/etc/caddy/Caddyfile";
/** Where the build stage puts the site it found. */
const STAGED_SITE = "/kiln-site";
/** Caddy's config and data folders (autosave, certificate storage): the app user may write only /tmp. */
const CADDY_ENV: [string, string][] = [
  ["XDG_CONFIG_HOME", "/tmp/caddy/config"],
  ["XDG_DATA_HOME", "/tmp/caddy/data"],
];
export const CADDY_COMMAND = ["caddy", "run", "--config", CADDYFILE_TARGET, "--adapter", "caddyfile"];

/** The Caddyfile's path in the build context. */
export const caddyfileInContext = (kilnDir: string) => `${kilnDir}/Caddyfile`;

/** Files the build context needs beside the Dockerfile (path in the context → text). */
export function staticContextFiles(plan: AppPlan, kilnDir: string): Record<string, string> {
  if (plan.kind !== "static") return {};
  return { [caddyfileInContext(kilnDir)]: staticCaddyfile({ root: SITE_ROOT, spa: plan.serve?.spa ?? false, port: plan.port }) };
}

/** The folders to look in, in order: dir, then the alternatives ("./dist/" → "dist"; the root is "."). */
export function siteDirs(serve: StaticServe | undefined): string[] {
  const dirs = [serve?.dir ?? ".", ...(serve?.alternatives ?? [])].map(plainDir);
  return [...new Set(dirs)];
}

function plainDir(dir: string): string {
  const d = dir.trim().replace(/^(?:\.\/)+/, "").replace(/\/+$/, "") || ".";
  const segments = d.split("/");
  if (d !== "." && (d.startsWith("/") || segments.some((s) => s === "" || s === "." || s === ".." || !/^[A-Za-z0-9_.@+-]+$/.test(s)))) {
    throw new StepError(`the site folder ${JSON.stringify(dir)} is not a plain folder inside the app`, "name a folder relative to the app's root, e.g. dist");
  }
  return d;
}

const folderList = (dirs: string[]) => {
  const names = dirs.map((d) => `${d}/`);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
};

export function missingSiteMessage(dirs: string[]): string {
  return `no site to serve: the build made no index.html in ${folderList(dirs)}`;
}

/** The output line of the build when no folder holds an index.html (no quote in it: it is echoed in single quotes). */
export function missingSiteLine(dirs: string[]): string {
  return `kiln: ${missingSiteMessage(dirs)}`;
}

export function missingSiteError(dirs: string[]): StepError {
  return new StepError(
    missingSiteMessage(dirs),
    "have the build write the site, with its index.html, to one of those folders (settings.buildCommand replaces the build command); " +
      "if the app is a server, say how it starts: scripts.start in package.json, a Procfile web: line or deploy.startCommand in railpack.json",
  );
}

/**
 * Shell run in the build stage's WORKDIR: stage the first folder holding an index.html at
 * /kiln-site. Links that lead out of it are dropped (Caddy follows links: one to /proc/self/environ
 * would serve the app's env), node_modules too; everything is made readable by all, writable by none
 * but root.
 */
export function findSiteCommand(dirs: string[]): string {
  return [
    "set -e",
    "site=",
    `for d in ${dirs.join(" ")}; do if [ -f "$d/index.html" ]; then site="$d"; break; fi; done`,
    `if [ -z "$site" ]; then echo '${missingSiteLine(dirs)}' >&2; exit 1; fi`,
    `echo "kiln: serving $site/"`,
    `cp -R "$site" ${STAGED_SITE}`,
    `rm -rf ${STAGED_SITE}/node_modules`,
    `find ${STAGED_SITE} -type l | while IFS= read -r l; do case "$(readlink -f "$l")" in ${STAGED_SITE}/*) ;; *) rm -f "$l" ;; esac; done`,
    `chmod -R a+rX,go-w ${STAGED_SITE}`,
  ].join("; ");
}

export interface StaticStageOptions {
  /** The static runtime image (Caddy). */
  image: string;
  kilnDir: string;
  /** The unprivileged user Caddy runs as. */
  user: string;
  /** ENV lines as the rest of the Dockerfile writes them. */
  envLine(pairs: [string, string][]): string;
}

/** The find-the-site step (last of the build stage), then the final stage. */
export function staticStages(plan: AppPlan, opts: StaticStageOptions): string[] {
  return [
    `RUN ${findSiteCommand(siteDirs(plan.serve))}`,
    "",
    `FROM ${opts.image}`,
    `WORKDIR ${SITE_ROOT}`,
    opts.envLine([...Object.entries(plan.runEnv ?? {}), ["PORT", String(plan.port)], ...CADDY_ENV]),
    `COPY --from=build ${STAGED_SITE} ${SITE_ROOT}`,
    `COPY ${caddyfileInContext(opts.kilnDir)} ${CADDYFILE_TARGET}`,
    `USER ${opts.user}`,
    `EXPOSE ${plan.port}`,
    `CMD ${JSON.stringify(CADDY_COMMAND)}`,
    "",
  ];
}
