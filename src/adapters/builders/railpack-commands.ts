/**
 * The commands of a Railpack build, as data (argv + env). Pure.
 *
 *   railpack prepare <src> --plan-out <work>/railpack-plan.json --info-out <work>/railpack-info.json
 *   buildctl --addr <host> build --frontend=gateway.v0 --opt source=<frontend image>
 *     --local context=<src> --local dockerfile=<work> --opt build-arg:cache-key=<deployment>
 *     --secret id=NAME,env=NAME … --output type=docker,name=<ref>,dest=<work>/image.tar
 *
 * (https://railpack.com/guides/running-railpack-in-production, /reference/frontend.) Secret
 * values travel only in env: `railpack prepare --env NAME` (a bare name is read from the
 * environment) and `--secret id=NAME,env=NAME`. The argv holds names and a salted hash only.
 */
import { join } from "node:path";
import { StepError } from "../../core/errors.ts";
import { FORBIDDEN_ENV_HINT, forbiddenEnvMessage, isEnvName } from "../../core/names.ts";
import type { Secret } from "../../core/secret.ts";
import type { Command } from "../exec/run.ts";

export const DEFAULT_FRONTEND = "ghcr.io/railwayapp/railpack-frontend";
export const PLAN_FILE = "railpack-plan.json";
export const INFO_FILE = "railpack-info.json";
export const IMAGE_TAR = "image.tar";

export interface RailpackPaths {
  /** Holds the plan (the frontend's "dockerfile" local), the info and the image tar. */
  workDir: string;
  plan: string;
  info: string;
  imageTar: string;
}

export function railpackPaths(workDir: string): RailpackPaths {
  return { workDir, plan: join(workDir, PLAN_FILE), info: join(workDir, INFO_FILE), imageTar: join(workDir, IMAGE_TAR) };
}

/**
 * Secret names become `--env NAME` and `--secret id=NAME,env=NAME`: plain env-var names only, and
 * none that the API refuses (a deployment stored before the deny-list may still hold one): these
 * values are railpack's and buildctl's own process environment on the host.
 */
export function checkSecretNames(secrets: Record<string, Secret>): string[] {
  const names = Object.keys(secrets).sort();
  for (const name of names) {
    if (!isEnvName(name)) {
      throw new StepError(
        `build secret name ${JSON.stringify(name.slice(0, 60))} is not a valid environment variable name`,
        "use letters, digits and '_', not starting with a digit",
      );
    }
    const forbidden = forbiddenEnvMessage(name);
    if (forbidden) throw new StepError(forbidden, FORBIDDEN_ENV_HINT);
  }
  return names;
}

export interface PrepareInput {
  bin?: string;
  srcDir: string;
  paths: RailpackPaths;
  secrets: Record<string, Secret>;
}

/** `railpack prepare`: detect the app and write the build plan and info. */
export function prepareCommand(input: PrepareInput): Command {
  const names = checkSecretNames(input.secrets);
  return {
    argv: [
      input.bin ?? "railpack",
      "prepare",
      input.srcDir,
      "--plan-out",
      input.paths.plan,
      "--info-out",
      input.paths.info,
      ...names.flatMap((n) => ["--env", n]),
    ],
    env: { ...input.secrets },
  };
}

export interface BuildctlInput {
  bin?: string;
  /** BuildKit daemon address, e.g. tcp://127.0.0.1:1234 or unix:///run/buildkit/buildkitd.sock. */
  addr: string;
  srcDir: string;
  paths: RailpackPaths;
  frontend?: string;
  /** Prefix of the mount cache ids: one cache per app (the deployment id). */
  cacheKey: string;
  /** Name given to the image in the docker-format tarball. */
  imageName: string;
  secrets: Record<string, Secret>;
  /** Changes when a secret value does (secretsHash); absent with no secrets. */
  secretsHash?: string;
}

/** `buildctl build` with the Railpack frontend, writing a docker-format image tarball. */
export function buildctlCommand(input: BuildctlInput): Command {
  const names = checkSecretNames(input.secrets);
  const argv = [
    input.bin ?? "buildctl",
    "--addr",
    input.addr,
    "build",
    "--progress=plain",
    "--frontend=gateway.v0",
    "--opt",
    `source=${input.frontend ?? DEFAULT_FRONTEND}`,
    "--opt",
    `filename=${PLAN_FILE}`,
    "--local",
    `context=${input.srcDir}`,
    "--local",
    `dockerfile=${input.paths.workDir}`,
    "--opt",
    `build-arg:cache-key=${input.cacheKey}`,
  ];
  if (input.secretsHash) argv.push("--opt", `build-arg:secrets-hash=${input.secretsHash}`);
  for (const n of names) argv.push("--secret", `id=${n},env=${n}`);
  argv.push("--output", `type=docker,name=${input.imageName},dest=${input.paths.imageTar}`);
  return { argv, env: { ...input.secrets } };
}

/** `buildctl debug workers`: succeeds when the BuildKit daemon answers. */
export function probeCommand(addr: string, bin = "buildctl"): Command {
  return { argv: [bin, "--addr", addr, "debug", "workers"] };
}

/**
 * A hash that changes with the secret values, so layers that use them are rebuilt (Railpack's
 * `secrets-hash`). Salted with the deployment id, so the hash of a short secret cannot be
 * looked up in a precomputed table.
 */
export function secretsHash(secrets: Record<string, Secret>, salt: string): string | undefined {
  const names = Object.keys(secrets).sort();
  if (names.length === 0) return undefined;
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(`kiln-railpack-secrets\0${salt}\0`);
  for (const n of names) hasher.update(`${n}=${secrets[n]!.reveal()}\0`);
  return hasher.digest("hex");
}
