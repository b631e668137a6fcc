/**
 * kiln deploy <dir|tarball|git-url>: a folder is packed (honouring .gitignore and .kilnignore) and
 * gzipped, a tarball sent as it is, a Git URL handed to the server; then the deployment's log is
 * streamed until it is running (URL printed, exit 0) or failed (reason printed, exit 1).
 */
import { stat } from "node:fs/promises";
import type { Deployment, KilnClient } from "../client/api-client.ts";
import { packDirectory } from "../adapters/fs/pack-directory.ts";
import { parse, positionals, UsageError } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { parseDotenv, parseEnvPairs } from "./env-args.ts";
import { loadIgnore } from "./ignore.ts";
import { printLine, reportOutcome, waitForOutcome } from "./deployments.ts";
import { formatBytes, progressLine, type Output } from "./output.ts";

export type DeploySource = { kind: "git"; url: string } | { kind: "folder"; path: string } | { kind: "tarball"; path: string };

const GIT_URL = /^(?:(?:https?|git|ssh|file):\/\/|[\w.-]+@[\w.-]+:)/;

/** What the argument names: a Git URL, or an existing folder or file. */
export async function classifySource(arg: string): Promise<DeploySource> {
  if (GIT_URL.test(arg)) return { kind: "git", url: arg };
  const st = await stat(arg).catch(() => null);
  if (!st) throw new UsageError(`${JSON.stringify(arg)} is neither a folder, a tarball nor a Git URL (https://…, git://…, git@host:…)`);
  return st.isDirectory() ? { kind: "folder", path: arg } : { kind: "tarball", path: arg };
}

/** --env K=V pairs as an object (a bad pair is refused without echoing its value). */
export function parseEnv(pairs: string[]): Record<string, string> {
  return parseEnvPairs(pairs, "--env");
}

/** --env-file's variables, then --env's (which win). */
async function readEnv(pairs: string[], file: string | undefined): Promise<Record<string, string>> {
  if (!file) return parseEnv(pairs);
  const f = Bun.file(file);
  if (!(await f.exists())) throw new UsageError(`--env-file ${JSON.stringify(file)} does not exist`);
  return { ...parseDotenv(await f.text(), file), ...parseEnv(pairs) };
}

export const deploy: Command = {
  name: "deploy",
  summary: "deploy a folder, a tarball or a Git URL and wait until it runs",
  help: `Usage: kiln deploy <folder|tarball|git-url> [--name NAME] [--ref REF] [--env KEY=VALUE]... [--env-file FILE] [--detach] [--json]

Deploy, stream the build log, and wait: exit 0 with the URL once the app answers, exit 1 with the
reason when the build or start fails.
  folder   packed as tar.gz, leaving out .git, node_modules and what .gitignore / .kilnignore list
  tarball  a .tar or .tar.gz, uploaded as it is
  git-url  cloned by the server (https://, git://, ssh://, git@host:path); --ref picks a branch or tag
--env (repeatable) and --env-file (KEY=VALUE lines, # comments; --env wins) set the app's
environment; values are kept as secrets and never printed. Change it later with kiln env.
--detach returns once the deployment is accepted. --json prints the final deployment as JSON.

${COMMON_FLAGS}

Examples:
  kiln deploy ./my-app --name hello
  kiln deploy ./my-app --name hello --env GREETING=hi --env-file .env.production
  kiln deploy https://github.com/acme/app.git --ref main --env API_KEY=…`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {
      name: { type: "string" },
      ref: { type: "string" },
      env: { type: "string", multiple: true },
      "env-file": { type: "string" },
      detach: { type: "boolean", short: "d" },
    });
    const [arg] = positionals(pos, ["folder|tarball|git-url"]) as [string];
    const source = await classifySource(arg);
    const env = await readEnv(values.env ?? [], values["env-file"]);
    if (source.kind !== "git" && values.ref) throw new UsageError("--ref applies to Git URLs only");
    const api = client(values);
    const created = await create(api, source, { name: values.name, ref: values.ref, env }, out, Boolean(values.json));
    if (!values.json) out.out(`${out.paint.bold(created.name)} (${created.id}) ${created.status}`);
    if (values.detach) {
      if (values.json) out.json(created);
      return EXIT.ok;
    }
    const final = await followUntilDone(api, created, out, Boolean(values.json));
    if (values.json) {
      out.json(final);
      return final.status === "running" ? EXIT.ok : EXIT.failed;
    }
    return reportOutcome(out, final);
  },
};

async function create(api: KilnClient, source: DeploySource, opts: { name?: string; ref?: string; env: Record<string, string> }, out: Output, quiet: boolean): Promise<Deployment> {
  if (source.kind === "git") {
    return api.createFromGit({ gitUrl: source.url, ...(opts.ref ? { ref: opts.ref } : {}), ...(opts.name ? { name: opts.name } : {}), ...(Object.keys(opts.env).length ? { env: opts.env } : {}) });
  }
  const bytes = source.kind === "folder" ? await packDirectory(source.path, { ignore: await loadIgnore(source.path), gzip: true }) : await Bun.file(source.path).bytes();
  if (!quiet && !out.tty) out.out(`uploading ${formatBytes(bytes.byteLength)}`);
  const showProgress = !quiet && out.tty;
  const progress = showProgress ? (sent: number, total: number | undefined) => void process.stdout.write(`\r${progressLine(sent, total)}`) : undefined;
  const deployment = await api.upload(bytes, opts.name, progress, { env: opts.env });
  if (showProgress) process.stdout.write("\n");
  return deployment;
}

/** Stream the log while polling the status; stop once it is running, failed or stopped. */
async function followUntilDone(api: KilnClient, d: Deployment, out: Output, quiet: boolean): Promise<Deployment> {
  const stream = quiet ? null : api.streamLogs(d.id, { follow: true, onLine: (l) => printLine(out, l, false) });
  stream?.done.catch(() => {}); // the status poll below is what decides; a lost log stream is not fatal
  try {
    return await waitForOutcome(api, d.id);
  } finally {
    if (stream) {
      await Bun.sleep(300); // let the last lines arrive
      stream.close();
    }
  }
}
