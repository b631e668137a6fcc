import { afterAll, describe, expect, test } from "bun:test";
import { StepError } from "../../../core/errors.ts";
import { detectApp } from "../detect.ts";
import { generateDockerfile } from "../dockerfile-gen.ts";
import { planLine } from "../plan-line.ts";
import { sourceTrees } from "../testdata/source-trees.ts";
import { normalizeName, parsePipfile, parsePyProject, parseRequirements, pythonVersion } from "./python-manifests.ts";

const trees = sourceTrees("kiln-python-");
afterAll(trees.removeAll);

const plan = async (files: Record<string, string>) => detectApp(trees.tree(files));

async function planError(files: Record<string, string>): Promise<StepError> {
  const err = await plan(files).then(
    () => new Error("expected a StepError"),
    (e: unknown) => e,
  );
  if (err instanceof StepError) return err;
  throw err;
}

const FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n";

describe("detection", () => {
  test.each([["main.py"], ["app.py"], ["server.py"], ["requirements.txt"], ["pyproject.toml"], ["Pipfile"]])("%s makes a Python app", async (file) => {
    const p = await plan({ [file]: "", "main.py": "print('hi')\n" });
    expect(p.kind).toBe("python");
  });

  test("Python is asked before Node.js, as Railpack does: package.json beside requirements.txt is a Python app", async () => {
    const p = await plan({ "package.json": '{"scripts":{"start":"node x.js"}}', "requirements.txt": "", "main.py": "" });
    expect(p.kind).toBe("python");
  });

  test("a lone script that is not one of Railpack's main files is not a Python app", async () => {
    const err = await planError({ "tool.py": "print(1)\n" });
    expect(err.message).toBe("could not detect how to build this app");
    expect(err.hint).toContain("requirements.txt, pyproject.toml, Pipfile or main.py/app.py (Python)");
  });
});

describe("install", () => {
  test("main.py only: nothing to install, no venv, python main.py", async () => {
    const p = await plan({ "main.py": "print('hi')\n" });
    expect(p.installCmd).toBeUndefined();
    expect(p.buildCmd).toBeUndefined();
    expect(p.startCmd).toBe("python main.py");
    expect(p.reasons.install).toBe("no requirements.txt, pyproject.toml or Pipfile: nothing to install");
    expect(p.runEnv).toEqual({ PYTHONFAULTHANDLER: "1", PYTHONUNBUFFERED: "1", PYTHONHASHSEED: "random", PYTHONDONTWRITEBYTECODE: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1" });
    expect(p.buildEnv).toBeUndefined();
    expect(p.caches).toBeUndefined();
    expect(planLine(p)).toBe("detected: Python app → start `python main.py` on port 3000");
  });

  test("a requirements.txt of comments and blank lines: nothing to install", async () => {
    const p = await plan({ "requirements.txt": "# none yet\n\n", "app.py": "" });
    expect(p.installCmd).toBeUndefined();
    expect(p.reasons.install).toBe("requirements.txt lists no packages: nothing to install");
    expect(p.startCmd).toBe("python app.py");
  });

  test("requirements.txt: pip into /app/.venv, only requirements.txt copied first; the venv's bin/ leads PATH in both stages", async () => {
    const p = await plan({ "requirements.txt": "requests==2.32.3\n", "main.py": "" });
    expect(p.installCmd).toBe("python -m venv /app/.venv && pip install -r requirements.txt");
    expect(p.manifests).toEqual(["requirements.txt"]);
    expect(p.runEnv).toMatchObject({ VIRTUAL_ENV: "/app/.venv", PATH: "/app/.venv/bin:$PATH" });
    expect(p.buildEnv).toMatchObject({ VIRTUAL_ENV: "/app/.venv", PATH: "/app/.venv/bin:$PATH", PIP_ROOT_USER_ACTION: "ignore" });
    expect(p.caches).toContainEqual({ id: "kiln-pip", target: "/root/.cache/pip" });

    const dockerfile = generateDockerfile(p, { images: { build: "kiln/python-runtime:3.11-host", run: "kiln/python-runtime:3.11-host" }, kilnDir: ".kiln", sourceDir: "source" });
    expect(dockerfile).toContain('COPY ["source/requirements.txt","./"]\nRUN --mount=type=cache,id=kiln-pip,target=/root/.cache/pip ');
    const final = dockerfile.slice(dockerfile.lastIndexOf("FROM "));
    expect(final).toContain("PATH=/app/.venv/bin:$PATH");
    expect(final).not.toContain("node_modules");
  });

  test("requirements.txt that reads other files (-r, -e ., --find-links): the whole tree is copied first", async () => {
    for (const text of ["-r base.txt\n", "-e .\n", "--no-index --find-links wheels/\nflask\n", "./vendor/pkg.whl\n"]) {
      const p = await plan({ "requirements.txt": text, "main.py": "" });
      expect(p.manifests).toEqual([]);
      expect(p.installCmd).toBe("python -m venv /app/.venv && pip install -r requirements.txt");
    }
  });

  test("requirements.txt wins over pyproject.toml and its lockfile (Railpack's order)", async () => {
    const p = await plan({ "requirements.txt": "flask\n", "pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask"]\n', "uv.lock": "", "main.py": "" });
    expect(p.installCmd).toBe("python -m venv /app/.venv && pip install -r requirements.txt");
  });

  test("pyproject.toml + uv.lock: uv (installed with pip into its own venv) syncs the locked dependencies, then the project", async () => {
    const p = await plan({ "pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi"]\n', "uv.lock": "version = 1\n", ".python-version": "3.12\n", "main.py": "" });
    expect(p.installCmd).toBe(
      "python -m venv /opt/kiln-tools && /opt/kiln-tools/bin/pip install uv && ln -s /opt/kiln-tools/bin/uv /usr/local/bin/uv && uv sync --locked --no-dev --no-install-project",
    );
    expect(p.buildCmd).toBe("uv sync --locked --no-dev --no-editable");
    expect(p.manifests).toEqual(["pyproject.toml", "uv.lock", ".python-version"]);
    expect(p.buildEnv).toMatchObject({ UV_PROJECT_ENVIRONMENT: "/app/.venv", UV_PYTHON_DOWNLOADS: "never" });
  });

  test("pyproject.toml + poetry.lock: poetry install of the main group, without the project", async () => {
    const p = await plan({ "pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nflask = "^3"\n', "poetry.lock": "", "main.py": "" });
    expect(p.installCmd).toEndWith("python -m venv /app/.venv && poetry install --no-interaction --no-ansi --only main --no-root");
    expect(p.installCmd).toStartWith("python -m venv /opt/kiln-tools && /opt/kiln-tools/bin/pip install poetry && ");
    expect(p.manifests).toEqual(["pyproject.toml", "poetry.lock"]);
  });

  test("pyproject.toml + pdm.lock: pdm install --prod", async () => {
    const p = await plan({ "pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask"]\n', "pdm.lock": "", "main.py": "" });
    expect(p.installCmd).toEndWith("pdm install --check --prod --no-editable");
  });

  test("a Pipfile: pipenv, --deploy with its lock, --skip-lock without", async () => {
    const locked = await plan({ Pipfile: "[packages]\nflask = \"*\"\n", "Pipfile.lock": "{}", "main.py": "" });
    expect(locked.installCmd).toEndWith("pipenv install --deploy --ignore-pipfile");
    expect(locked.manifests).toEqual(["Pipfile", "Pipfile.lock"]);
    const unlocked = await plan({ Pipfile: "[packages]\nflask = \"*\"\n", "main.py": "" });
    expect(unlocked.installCmd).toEndWith("pipenv install --skip-lock");
  });

  test("pyproject.toml with dependencies and no lockfile: pip install . with the whole tree; without dependencies: nothing", async () => {
    const deps = await plan({ "pyproject.toml": '[project]\nname = "x"\ndependencies = ["httpx>=0.27"]\n', "main.py": "" });
    expect(deps.installCmd).toBe("python -m venv /app/.venv && pip install .");
    expect(deps.manifests).toEqual([]);
    const none = await plan({ "pyproject.toml": "[tool.ruff]\nline-length = 100\n", "main.py": "" });
    expect(none.installCmd).toBeUndefined();
    expect(none.reasons.install).toBe("pyproject.toml declares no dependencies: nothing to install");
  });

  test("railpack.json's install and build commands win, \"...\" standing for the detected install", async () => {
    const p = await plan({
      "requirements.txt": "flask\n",
      "main.py": "",
      "railpack.json": JSON.stringify({ steps: { install: { commands: ["...", "pip install extra"] }, build: { commands: ["python manage.py collectstatic --noinput"] } } }),
    });
    expect(p.installCmd).toBe("python -m venv /app/.venv && pip install -r requirements.txt && pip install extra");
    expect(p.manifests).toEqual([]);
    expect(p.buildCmd).toBe("python manage.py collectstatic --noinput");
  });

  test("a pyproject.toml that is not TOML fails naming the file and the problem", async () => {
    const err = await planError({ "pyproject.toml": '[project]\nname = "x\n', "main.py": "" });
    expect(err.message).toBe("pyproject.toml is not valid TOML: Unterminated string; newlines must be escaped in basic strings");
    expect(err.hint).toBe("fix the syntax of pyproject.toml");
  });
});

describe("start", () => {
  test("the Procfile's web: line wins over everything detected", async () => {
    const p = await plan({ Procfile: "web: gunicorn -w 4 wsgi:app\n", "requirements.txt": "flask\ngunicorn\n", "main.py": FLASK_APP });
    expect(p.startCmd).toBe("gunicorn -w 4 wsgi:app");
    expect(p.reasons.start).toBe("the web: line of the Procfile");
  });

  test("railpack.json's deploy.startCommand wins over the Procfile", async () => {
    const p = await plan({ Procfile: "web: python a.py\n", "railpack.json": '{"deploy":{"startCommand":"python b.py"}}', "main.py": "" });
    expect(p.startCmd).toBe("python b.py");
  });

  test("Flask and gunicorn: gunicorn serves the module that defines app, on 0.0.0.0:$PORT", async () => {
    const p = await plan({ "requirements.txt": "Flask==3.0\ngunicorn\n", "app.py": FLASK_APP });
    expect(p.startCmd).toBe("gunicorn --bind 0.0.0.0:$PORT app:app");
    expect(p.reasons.start).toBe("Flask and gunicorn are declared; the app is app in app.py");
  });

  test("Flask with a create_app() factory and no app: gunicorn calls the factory", async () => {
    const p = await plan({ "requirements.txt": "flask\ngunicorn\n", "main.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n" });
    expect(p.startCmd).toBe("exec gunicorn --bind 0.0.0.0:$PORT 'main:create_app()'");
  });

  test("FastAPI and uvicorn: uvicorn main:app on 0.0.0.0 and $PORT (as Railpack)", async () => {
    const p = await plan({ "requirements.txt": "fastapi\nuvicorn[standard]>=0.30\n", "main.py": "from fastapi import FastAPI\napp: FastAPI = FastAPI()\n" });
    expect(p.startCmd).toBe("uvicorn main:app --host 0.0.0.0 --port $PORT");
  });

  test("FastAPI declared in pyproject.toml counts as declared", async () => {
    const p = await plan({ "pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi>=0.110", "uvicorn"]\n', "uv.lock": "", "main.py": "app = 1\n" });
    expect(p.startCmd).toBe("uvicorn main:app --host 0.0.0.0 --port $PORT");
  });

  test("Flask without gunicorn runs its main file", async () => {
    const p = await plan({ "requirements.txt": "flask\n", "main.py": FLASK_APP });
    expect(p.startCmd).toBe("python main.py");
  });

  test("Django: migrate, then gunicorn serves WSGI_APPLICATION from the settings manage.py names", async () => {
    const p = await plan({
      "requirements.txt": "Django>=5\ngunicorn\n",
      "manage.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n',
      "mysite/settings.py": "WSGI_APPLICATION = 'mysite.wsgi.application'\n",
      "mysite/wsgi.py": "",
    });
    expect(p.startCmd).toBe("python manage.py migrate && exec gunicorn --bind 0.0.0.0:$PORT mysite.wsgi:application");
    expect(p.reasons.start).toBe("Django (manage.py; WSGI_APPLICATION in mysite/settings.py) under gunicorn, after migrate");
  });

  test("Django without gunicorn: runserver, with a warning", async () => {
    const p = await plan({
      "requirements.txt": "django\n",
      "manage.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings.prod')\n",
      "proj/settings/prod.py": "DEBUG = False\n",
      "proj/wsgi.py": "",
    });
    expect(p.startCmd).toBe("python manage.py migrate && exec python manage.py runserver 0.0.0.0:$PORT");
    expect(p.warnings.some((w) => w.includes("add gunicorn"))).toBe(true);
  });

  test("a main file, in Railpack's order: main.py before app.py", async () => {
    const p = await plan({ "requirements.txt": "", "app.py": "", "main.py": "" });
    expect(p.startCmd).toBe("python main.py");
  });

  test("dependencies but no main file and no Procfile: an error saying what to add", async () => {
    const err = await planError({ "requirements.txt": "requests\n" });
    expect(err.message).toBe("could not find how to start the Python app");
    expect(err.hint).toContain("Procfile with a web: line");
  });
});

describe("version", () => {
  test(".python-version over runtime.txt over Pipfile over requires-python", async () => {
    const all = { ".python-version": "3.12.4\n", "runtime.txt": "python-3.10.14", Pipfile: '[requires]\npython_version = "3.9"\n', "pyproject.toml": '[project]\nrequires-python = ">=3.8"\n', "main.py": "" };
    expect((await plan(all)).buildImage).toEqual({ name: "python", version: "3.12.4", versionFrom: ".python-version" });
    const { ".python-version": _, ...noFile } = all;
    expect((await plan(noFile)).buildImage).toEqual({ name: "python", version: "3.10.14", versionFrom: "runtime.txt" });
    const { "runtime.txt": __, ...noRuntime } = noFile;
    expect((await plan(noRuntime)).buildImage).toEqual({ name: "python", version: "3.9", versionFrom: "[requires] in Pipfile" });
    const p = await plan({ "pyproject.toml": '[project]\nrequires-python = ">=3.8"\n', "main.py": "" });
    expect(p.buildImage).toEqual({ name: "python", version: ">=3.8", versionFrom: "requires-python in pyproject.toml" });
    expect(p.runImage).toEqual(p.buildImage);
    expect(p.reasons.runtime).toBe("Python >=3.8 (requires-python in pyproject.toml)");
  });

  test("none asked: the runtime's default", async () => {
    expect((await plan({ "main.py": "" })).buildImage).toEqual({ name: "python" });
  });
});

describe("manifests", () => {
  test("requirements.txt: names normalised, options and comments skipped, file references noticed", () => {
    expect(parseRequirements("Flask_SQLAlchemy>=3  # orm\n--index-url https://x/simple\nuvicorn[standard]\n\n")).toEqual({
      packages: ["flask-sqlalchemy", "uvicorn"],
      readsTree: false,
    });
    expect(parseRequirements("-c constraints.txt\nflask\n").readsTree).toBe(true);
    expect(parseRequirements("pkg @ file:///app/pkg\n").readsTree).toBe(true);
  });

  test("pyproject.toml: [project] and Poetry dependencies, python excluded; local paths read the tree", () => {
    expect(parsePyProject('[project]\nrequires-python = ">=3.11"\ndependencies = ["Django>=5", "psycopg[binary]"]\n')).toEqual({
      packages: ["django", "psycopg"],
      requiresPython: ">=3.11",
      readsTree: false,
    });
    expect(parsePyProject('[tool.poetry.dependencies]\npython = "^3.11"\nmylib = { path = "../mylib" }\n')).toEqual({
      packages: ["mylib"],
      requiresPython: "^3.11",
      readsTree: true,
    });
    expect(parsePyProject("[tool.uv.workspace]\nmembers = [\"pkgs/*\"]\n").readsTree).toBe(true);
  });

  test("Pipfile: packages and the full version over the short one", () => {
    expect(parsePipfile('[packages]\nFlask = "*"\n[requires]\npython_version = "3.11"\npython_full_version = "3.11.4"\n')).toEqual({ packages: ["flask"], python: "3.11.4" });
  });

  test("versions read as written; runtime.txt without its python- prefix", () => {
    expect(pythonVersion({ pythonVersion: "# pyenv\n3.11\n", runtimeTxt: null })).toEqual({ name: "python", version: "3.11", versionFrom: ".python-version" });
    expect(pythonVersion({ pythonVersion: null, runtimeTxt: "python-3.12.1\n" })).toEqual({ name: "python", version: "3.12.1", versionFrom: "runtime.txt" });
    expect(normalizeName("Zope.Interface")).toBe("zope-interface");
  });
});
