/**
 * Python apps, after Railpack's Python provider: a main file (main.py, app.py, …),
 * requirements.txt, pyproject.toml or a Pipfile. Packages go into a virtualenv at /app/.venv,
 * installed with what the tree says: requirements.txt → pip; pyproject.toml with uv.lock → uv,
 * with poetry.lock → Poetry, with pdm.lock → PDM; a Pipfile → pipenv; a pyproject.toml that
 * declares dependencies and no lockfile → `pip install .`. Nothing declared: no install at all,
 * so a standard-library app builds with no package index. uv, Poetry, PDM and pipenv are
 * installed with pip into their own virtualenv (/opt/kiln-tools), which stays in the build stage.
 * How it starts: python-start.ts. Which Python: python-manifests.ts.
 */
import { DETECTED, joinCommands } from "../railpack-config.ts";
import { DEFAULT_PORT, type AppPlan } from "../plan.ts";
import type { Tree } from "../tree.ts";
import type { DetectContext, Provider } from "./provider.ts";
import { parsePipfile, parsePyProject, parseRequirements, pythonVersion, type Pipfile, type PyProject, type Requirements } from "./python-manifests.ts";
import { MAIN_FILES, pythonStart } from "./python-start.ts";

export const VENV = "/app/.venv";
/** A virtualenv for the package manager itself (uv, Poetry…), kept out of the app's venv and image. */
export const TOOLS_VENV = "/opt/kiln-tools";
const LOCKFILES = ["uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock"];

/** The environment Railpack gives Python apps when they run. */
export const PYTHON_RUN_ENV: Record<string, string> = {
  PYTHONFAULTHANDLER: "1",
  PYTHONUNBUFFERED: "1",
  PYTHONHASHSEED: "random",
  PYTHONDONTWRITEBYTECODE: "1",
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
};

export const pythonProvider: Provider = {
  name: "python",
  looksAt: ["requirements.txt", "pyproject.toml", "Pipfile", ".python-version", "runtime.txt", "manage.py", ...LOCKFILES, ...MAIN_FILES],
  async plan(ctx) {
    const { tree } = ctx;
    const isPython = ["requirements.txt", "pyproject.toml", "Pipfile"].some((f) => tree.has(f)) || (await someFile(tree, MAIN_FILES));
    if (!isPython) return null;
    return pythonPlan(ctx);
  },
};

interface Manifests {
  requirements?: Requirements;
  pyproject?: PyProject;
  pipfile?: Pipfile;
}

interface Install {
  cmd?: string;
  /** The project itself, installed once the whole tree is there (uv). */
  build?: string;
  manifests: string[];
  reason: string;
  /** Whether the app's packages live in the venv (its bin/ goes first on PATH). */
  venv: boolean;
  /** Extra build-stage env (the package manager's settings). */
  env: Record<string, string>;
}

async function pythonPlan(ctx: DetectContext): Promise<AppPlan> {
  const { tree, warnings } = ctx;
  const m = await readManifests(tree);
  const install = await chooseInstall(tree, m);
  const reasons: AppPlan["reasons"] = { kind: `found ${kindEvidence(tree)}`, install: install.reason };
  const rp = ctx.railpack;
  let { cmd: installCmd, build: buildCmd, manifests } = install;
  if (rp?.install) {
    installCmd = joinCommands(rp.install, install.cmd);
    manifests = [];
    reasons.install = "steps.install.commands in railpack.json (run with the whole tree copied)";
  }
  if (rp?.build) {
    buildCmd = joinCommands(rp.build, install.build);
    reasons.build = rp.build.includes(DETECTED) && install.build ? 'steps.build.commands in railpack.json ("..." = the detected build)' : "steps.build.commands in railpack.json";
  } else if (buildCmd) {
    reasons.build = "installs the project itself once the whole tree is copied";
  }

  const deps = new Set([...(m.requirements?.packages ?? []), ...(m.pyproject?.packages ?? []), ...(m.pipfile?.packages ?? [])]);
  const start = await pythonStart(ctx, deps);
  reasons.start = start.reason;
  reasons.port = `PORT=${DEFAULT_PORT} is set in the image; the app must listen on $PORT (0.0.0.0)`;
  const runtime = pythonVersion({
    pythonVersion: await tree.text(".python-version"),
    runtimeTxt: await tree.text("runtime.txt"),
    pipfile: m.pipfile,
    pyproject: m.pyproject,
  });
  if (runtime.version) reasons.runtime = `Python ${runtime.version} (${runtime.versionFrom})`;

  const venvEnv: Record<string, string> = install.venv ? { VIRTUAL_ENV: VENV, PATH: `${VENV}/bin:$PATH` } : {};
  return {
    kind: "python",
    manifests,
    installCmd,
    buildCmd,
    startCmd: start.cmd,
    port: DEFAULT_PORT,
    buildImage: runtime,
    runImage: runtime,
    runEnv: { ...PYTHON_RUN_ENV, ...venvEnv },
    buildEnv: installCmd || buildCmd ? { ...PYTHON_RUN_ENV, PIP_ROOT_USER_ACTION: "ignore", ...install.env, ...venvEnv } : undefined,
    caches: installCmd || buildCmd ? [{ id: "kiln-pip", target: "/root/.cache/pip" }, { id: "kiln-uv", target: "/root/.cache/uv" }] : undefined,
    reasons,
    warnings,
  };
}

async function readManifests(tree: Tree): Promise<Manifests> {
  const out: Manifests = {};
  const requirements = await tree.text("requirements.txt");
  if (requirements !== null) out.requirements = parseRequirements(requirements);
  const pyproject = await tree.text("pyproject.toml");
  if (pyproject !== null) out.pyproject = parsePyProject(pyproject);
  const pipfile = await tree.text("Pipfile");
  if (pipfile !== null) out.pipfile = parsePipfile(pipfile);
  return out;
}

/** In Railpack's order: requirements.txt, then pyproject.toml with a lockfile, then a Pipfile. */
async function chooseInstall(tree: Tree, m: Manifests): Promise<Install> {
  const none = (reason: string): Install => ({ manifests: [], reason, venv: false, env: {} });
  const present = (files: string[]) => files.filter((f) => tree.has(f));
  if (m.requirements) {
    const r = m.requirements;
    if (r.packages.length === 0 && !r.readsTree) return none("requirements.txt lists no packages: nothing to install");
    return {
      cmd: `python -m venv ${VENV} && pip install -r requirements.txt`,
      manifests: r.readsTree ? [] : ["requirements.txt"],
      reason: `requirements.txt: pip into ${VENV}${r.readsTree ? "; it reads other files (-r, -e, a path), so the whole tree is copied first" : ""}`,
      venv: true,
      env: {},
    };
  }
  const pyproject = m.pyproject;
  const wholeTree = pyproject?.readsTree === true;
  const lockedManifests = (lock: string) => (wholeTree ? [] : present(["pyproject.toml", lock, ".python-version"]));
  if (pyproject && tree.has("uv.lock")) {
    return {
      cmd: `${tool("uv")} && uv sync --locked --no-dev --no-install-project`,
      build: "uv sync --locked --no-dev --no-editable",
      manifests: lockedManifests("uv.lock"),
      reason: `uv.lock is present: uv sync into ${VENV} (uv installed with pip)`,
      venv: true,
      env: { UV_PROJECT_ENVIRONMENT: VENV, UV_PYTHON_DOWNLOADS: "never", UV_LINK_MODE: "copy", UV_COMPILE_BYTECODE: "1" },
    };
  }
  if (pyproject && tree.has("poetry.lock")) {
    return {
      cmd: `${tool("poetry")} && python -m venv ${VENV} && poetry install --no-interaction --no-ansi --only main --no-root`,
      manifests: lockedManifests("poetry.lock"),
      reason: `poetry.lock is present: poetry install into ${VENV} (Poetry installed with pip)`,
      venv: true,
      env: { POETRY_VIRTUALENVS_IN_PROJECT: "true" },
    };
  }
  if (pyproject && tree.has("pdm.lock")) {
    return {
      cmd: `${tool("pdm")} && python -m venv ${VENV} && pdm install --check --prod --no-editable`,
      manifests: lockedManifests("pdm.lock"),
      reason: `pdm.lock is present: pdm install into ${VENV} (PDM installed with pip)`,
      venv: true,
      env: { PDM_CHECK_UPDATE: "false" },
    };
  }
  if (m.pipfile) {
    const locked = tree.has("Pipfile.lock");
    return {
      cmd: `${tool("pipenv")} && pipenv install ${locked ? "--deploy --ignore-pipfile" : "--skip-lock"}`,
      manifests: present(["Pipfile", "Pipfile.lock"]),
      reason: `Pipfile${locked ? " and Pipfile.lock" : ""}: pipenv install into ${VENV} (pipenv installed with pip)`,
      venv: true,
      env: { PIPENV_VENV_IN_PROJECT: "1", PIPENV_CHECK_UPDATE: "false", PIPENV_IGNORE_VIRTUALENVS: "1" },
    };
  }
  if (pyproject && pyproject.packages.length > 0) {
    return {
      cmd: `python -m venv ${VENV} && pip install .`,
      manifests: [],
      reason: `pyproject.toml declares dependencies and has no lockfile: pip install . into ${VENV} (the whole tree is the package)`,
      venv: true,
      env: {},
    };
  }
  return none(pyproject ? "pyproject.toml declares no dependencies: nothing to install" : "no requirements.txt, pyproject.toml or Pipfile: nothing to install");
}

/** Installs a Python tool with pip into its own virtualenv, on PATH after the app's. */
function tool(name: string): string {
  return `python -m venv ${TOOLS_VENV} && ${TOOLS_VENV}/bin/pip install ${name} && ln -s ${TOOLS_VENV}/bin/${name} /usr/local/bin/${name}`;
}

function kindEvidence(tree: Tree): string {
  const manifest = ["requirements.txt", "pyproject.toml", "Pipfile"].find((f) => tree.has(f));
  return manifest ?? MAIN_FILES.find((f) => tree.has(f)) ?? "a Python file";
}

async function someFile(tree: Tree, files: readonly string[]): Promise<boolean> {
  for (const f of files) if (tree.has(f) && (await tree.isFile(f))) return true;
  return false;
}
