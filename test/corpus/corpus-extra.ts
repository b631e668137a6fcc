/** Corpus apps in the shapes beyond Node servers and SPAs: built static sites, Bun, Python, Go. */
import type { CorpusApp } from "./corpus.ts";

export const EXTRA_CORPUS: CorpusApp[] = [
  { fixture: "static-built", shape: "static site made by a build script (no framework)", ci: true, plan: "serve `dist/`", checks: [
    { path: "/", body: "hello from a built static site", header: ["cache-control", /no-cache/] },
    { path: "/about/", body: "about this built site" },
    { path: "/assets/app-3f9a8b7c.js", header: ["cache-control", /immutable/] },
    { path: "/assets/app-3f9a8b7c.js", headers: { "accept-encoding": "gzip" }, header: ["content-encoding", /gzip/] },
    { path: "/nope", status: 404, body: "this built site has no such page" },
    { path: "/.env", status: 404 },
    { path: "/environ", status: 404 },
  ] },
  { fixture: "bun-app", shape: "Bun server (bun.lock)", ci: true, plan: "bun install --frozen-lockfile", checks: [{ path: "/", body: '"app":"bun-app"' }] },
  { fixture: "node-nvmrc", shape: "Node server asking for another Node.js in .nvmrc", trap: "version the host lacks", ci: false, checks: [{ path: "/" }] },
  { fixture: "python-stdlib", shape: "Python, standard library only (main.py)", ci: true, checks: [{ path: "/", body: '"app": "python-stdlib"' }] },
  { fixture: "python-procfile", shape: "Python started by a Procfile web: line", ci: false, checks: [{ path: "/", body: "hello from the Procfile" }] },
  { fixture: "python-requirements", shape: "Python with requirements.txt (Flask, gunicorn)", trap: "no package index here", ci: true, fails: ["pip could not reach the package index"] },
  { fixture: "go-stdlib", shape: "Go, standard library only", ci: false, checks: [{ path: "/", body: '"app":"go-stdlib"' }] },
  { fixture: "go-modules", shape: "Go with required modules", trap: "no module proxy here", ci: false, fails: ["Go modules need a module proxy; none answered"] },
];
