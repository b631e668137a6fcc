/**
 * Each kind of app Kiln's builders handle, deployed for real and answering through Caddy:
 * an npm app with a dependency, a static site, an app with its own Dockerfile, a Procfile app,
 * a Python app and a Go app.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";

const APPS = join(import.meta.dir, "../fixtures/apps");
let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(async () => {
  await kiln?.stop();
});

async function deploy(fixture: string, name: string): Promise<Record<string, any>> {
  const res = await kiln.api(`/deployments/upload?name=${name}`, { method: "POST", body: await tarOf(join(APPS, fixture), true) });
  expect(res.status).toBe(202);
  const dep = (await res.json()) as Record<string, any>;
  const done = await kiln.waitFor(dep.id, ["running", "failed"]);
  if (done.status !== "running") {
    const lines = await kiln.logs(dep.id, { timeoutMs: 500 });
    throw new Error(`${fixture} failed: ${done.failureReason}\n${lines.slice(-20).map((l) => l.text).join("\n")}`);
  }
  return done;
}

test("an npm app with a dependency installs it and runs in production mode as a non-root user", async () => {
  const dep = await deploy("node-npm", "npm-app");
  expect(dep.currentBuild.builder).toBe("kiln");
  const res = await kiln.viaSubdomain("npm-app");
  expect(res.status).toBe(200);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ app: "node-npm", isNumber: true, env: "production" });
  expect(body.uid).not.toBe(0);
});

test("a static site is served, with its assets, on both URL styles", async () => {
  const dep = await deploy("static", "static-site");
  const page = await kiln.viaSubdomain("static-site");
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("hello from a static site");
  const css = await kiln.viaPath(dep.id, "/style.css");
  expect(css.status).toBe(200);
  await css.text();
});

test("an app with its own Dockerfile is built from it, on the port it exposes", async () => {
  const dep = await deploy("dockerfile", "own-dockerfile");
  expect(dep.currentBuild.builder).toBe("dockerfile");
  const res = await kiln.viaSubdomain("own-dockerfile");
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("own dockerfile");
});

test("a Procfile app runs its web process", async () => {
  await deploy("procfile", "procfile-app");
  const res = await kiln.viaSubdomain("procfile-app");
  expect(res.status).toBe(200);
  await res.text();
});

test("a Python app with no dependencies (main.py) runs on the Python image as a non-root user", async () => {
  const dep = await deploy("python-stdlib", "python-app");
  expect(dep.currentBuild.builder).toBe("kiln");
  const res = await kiln.viaSubdomain("python-app");
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ app: "python-stdlib", uid: 1000 });
});

test("a Go app (go.mod) is built with a Go toolchain and runs as one binary", async () => {
  await deploy("go-stdlib", "go-app");
  const res = await kiln.viaSubdomain("go-app");
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ app: "go-stdlib", uid: 1000 });
});

test("the app container is hardened and published on loopback only", async () => {
  const d = await kiln.service.get("npm-app");
  const res = await fetch(`http://docker/v1.41/containers/${d.instances[0]!.containerId}/json`, { unix: "/var/run/docker.sock" } as RequestInit);
  const info = (await res.json()) as any;
  expect(info.HostConfig.CapDrop).toContain("ALL");
  expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges:true");
  expect(info.HostConfig.Init).toBe(true);
  expect(info.HostConfig.Memory).toBeGreaterThan(0);
  expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
  expect(info.HostConfig.RestartPolicy.Name).toBe("no"); // Kiln alone restarts apps (reconcile/app-convergence.ts)
  expect(info.Config.Labels["kiln.deployment"]).toBe(d.id);
  const bindings = Object.values(info.HostConfig.PortBindings).flat() as { HostIp: string }[];
  expect(bindings.length).toBeGreaterThan(0);
  expect(bindings.every((b) => b.HostIp === "127.0.0.1")).toBe(true);
});
