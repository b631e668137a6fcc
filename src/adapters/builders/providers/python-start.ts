/**
 * How a Python app starts, after Railpack's Python provider: railpack.json's deploy.startCommand
 * or the Procfile's web: line; else Flask under gunicorn, FastAPI/FastHTML/Starlette under
 * uvicorn, Django's WSGI application under gunicorn (after `manage.py migrate`), any app under a
 * declared gunicorn or uvicorn; else `python <main file>`. Servers bind 0.0.0.0:$PORT. Where
 * Railpack always says `main:app`, Kiln names the file that defines the app and its variable.
 */
import { StepError } from "../../../core/errors.ts";
import type { DetectContext } from "./provider.ts";

/** The files Railpack runs with `python <file>`, in the order it looks for them. */
export const MAIN_FILES = ["main.py", "app.py", "start.py", "bot.py", "hello.py", "server.py"];
/** Where a WSGI/ASGI app may be defined: the main files, then the conventional module names. */
const SERVER_MODULES = [...MAIN_FILES, "wsgi.py", "asgi.py"];
const HEAD = 256 * 1024;
const ASGI_FRAMEWORKS = ["fastapi", "python-fasthtml", "starlette", "quart", "litestar"];

export interface PythonStart {
  cmd: string;
  reason: string;
}

export async function pythonStart(ctx: DetectContext, deps: ReadonlySet<string>): Promise<PythonStart> {
  const { tree, railpack, procfileWeb, warnings } = ctx;
  if (railpack?.start) return { cmd: railpack.start, reason: "deploy.startCommand in railpack.json" };
  if (procfileWeb) return { cmd: procfileWeb, reason: "the web: line of the Procfile" };
  const has = (name: string) => deps.has(name);

  if (has("flask") && has("gunicorn")) {
    const app = await findApp(ctx);
    if (app) return gunicorn(app.target, `Flask and gunicorn are declared; the app is ${app.where}`);
  }
  const asgi = ASGI_FRAMEWORKS.find(has);
  if (asgi && has("uvicorn")) {
    const app = await findApp(ctx);
    if (app) return uvicorn(app.target, `${asgi} and uvicorn are declared; the app is ${app.where}`);
  }
  if (has("django") && tree.has("manage.py")) {
    const wsgi = await djangoWsgi(ctx);
    if (wsgi && has("gunicorn")) {
      return {
        cmd: `python manage.py migrate && exec gunicorn --bind 0.0.0.0:$PORT ${wsgi.target}`,
        reason: `Django (manage.py; ${wsgi.where}) under gunicorn, after migrate`,
      };
    }
    if (wsgi) {
      warnings.push("a Django app without gunicorn in its dependencies runs on Django's development server; add gunicorn to serve it properly");
      return { cmd: "python manage.py migrate && exec python manage.py runserver 0.0.0.0:$PORT", reason: "Django (manage.py) without gunicorn: runserver, after migrate" };
    }
  }
  if (has("gunicorn")) {
    const app = await findApp(ctx);
    if (app) return gunicorn(app.target, `gunicorn is declared; the app is ${app.where}`);
  }
  if (has("uvicorn")) {
    const app = await findApp(ctx);
    if (app) return uvicorn(app.target, `uvicorn is declared; the app is ${app.where}`);
  }
  for (const file of MAIN_FILES) if (await tree.isFile(file)) return { cmd: `python ${file}`, reason: `found ${file}` };
  throw new StepError(
    "could not find how to start the Python app",
    `add a Procfile with a web: line (e.g. "web: gunicorn --bind 0.0.0.0:$PORT app:app"), deploy.startCommand in railpack.json, ` +
      `or a ${MAIN_FILES.slice(0, 2).join(" or ")} at the root`,
  );
}

function gunicorn(target: string, reason: string): PythonStart {
  // A quoted factory call has parentheses, which would keep sh from exec'ing gunicorn by itself.
  return { cmd: `${target.includes("(") ? "exec " : ""}gunicorn --bind 0.0.0.0:$PORT ${target}`, reason };
}

function uvicorn(target: string, reason: string): PythonStart {
  return { cmd: `uvicorn ${target} --host 0.0.0.0 --port $PORT`, reason };
}

interface AppTarget {
  /** gunicorn/uvicorn's "module:variable" (or "module:factory()"). */
  target: string;
  /** For the reason: "app in main.py". */
  where: string;
}

/**
 * The first server module that defines `app` (or `application`) at top level, else one with a
 * create_app() factory, else the first main file with the conventional `app`.
 */
async function findApp({ tree }: DetectContext): Promise<AppTarget | null> {
  let fallback: AppTarget | null = null;
  let factory: AppTarget | null = null;
  for (const file of SERVER_MODULES) {
    const text = await tree.head(file, HEAD);
    if (text === null) continue;
    const module = file.slice(0, -3);
    const variable = /^(app|application)\s*(?::[^=\n]*)?[=,]/m.exec(text)?.[1];
    if (variable) return { target: `${module}:${variable}`, where: `${variable} in ${file}` };
    if (!factory && /^def create_app\(/m.test(text)) factory = { target: `'${module}:create_app()'`, where: `create_app() in ${file}` };
    if (!fallback && MAIN_FILES.includes(file)) fallback = { target: `${module}:app`, where: `assumed to be app in ${file}` };
  }
  return factory ?? fallback;
}

/** Django's WSGI application: WSGI_APPLICATION in the settings manage.py names, else <project>/wsgi.py. */
async function djangoWsgi({ tree }: DetectContext): Promise<AppTarget | null> {
  const manage = (await tree.text("manage.py")) ?? "";
  const settings = /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']/.exec(manage)?.[1];
  if (!settings) return null;
  const path = settings.replace(/\./g, "/");
  for (const file of [`${path}.py`, `${path}/__init__.py`]) {
    const text = await tree.head(file, HEAD);
    const wsgi = text && /^WSGI_APPLICATION\s*=\s*["']([\w.]+)\.(\w+)["']/m.exec(text);
    if (wsgi) return { target: `${wsgi[1]}:${wsgi[2]}`, where: `WSGI_APPLICATION in ${file}` };
  }
  const project = settings.split(".")[0]!;
  if (await tree.isFile(`${project}/wsgi.py`)) return { target: `${project}.wsgi:application`, where: `${project}/wsgi.py` };
  return null;
}
