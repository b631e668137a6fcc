/**
 * DockerEngine against the real engine on /var/run/docker.sock: networks, the host-assembled
 * Node base image, BuildKit builds (cache mount, failure, cancel), a hardened container and
 * its logs. Everything created carries TEST_LABELS and is removed before and after.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StepError } from "../../src/core/errors.ts";
import type { LogStream } from "../../src/core/logs.ts";
import type { ContainerSpec } from "../../src/core/ports/runtime.ts";
import { ensureNodeBaseImage } from "../../src/adapters/docker/base-image.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { run } from "../../src/adapters/exec/run.ts";
import { tarStream } from "../../src/adapters/docker/rootfs-tar.ts";
import { until } from "../helpers/wait.ts";

const SOCKET = "/var/run/docker.sock";
const TEST_LABELS = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.suite": "docker-engine" };
const NETWORK = "kiln-test-docker-engine";
const BASE_REF = "kiln-test/node-runtime:host";
const engine = new DockerEngine({ socketPath: SOCKET });
const enc = new TextEncoder();
const labelFilter = JSON.stringify({ label: ["kiln.test.suite=docker-engine"] });

/** Raw engine JSON, for asserting what the adapter does not expose. */
async function raw<T>(path: string, method = "GET"): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://docker/v1.41${path}`, { method, unix: SOCKET });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

function context(files: Record<string, string>): ReadableStream<Uint8Array> {
  return tarStream(Object.entries(files).map(([path, text]) => ({ type: "file", path, mode: 0o644, data: enc.encode(text) })));
}

function spec(name: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: `kiln-test-docker-engine-${name}`,
    image: BASE_REF,
    labels: TEST_LABELS,
    env: {},
    network: NETWORK,
    memoryBytes: 256 * 1024 * 1024,
    nanoCpus: 500_000_000,
    pidsLimit: 128,
    restartPolicy: "no",
    ...over,
  };
}

/** Create, start, wait for exit; its exit code and output. */
async function runToExit(s: ContainerSpec): Promise<{ code: number; lines: string[] }> {
  const id = await engine.createContainer(s);
  await engine.startContainer(id);
  const code = await engine.waitContainer(id);
  const lines = await engine.tailLogs(id, 100);
  await engine.removeContainer(id);
  return { code, lines };
}

async function cleanup(): Promise<void> {
  for (const c of await engine.listContainers(TEST_LABELS)) await engine.removeContainer(c.id);
  for (const img of await engine.listImages(TEST_LABELS)) await engine.removeImage(img.id);
  const nets = await raw<{ Id: string }[]>(`/networks?filters=${encodeURIComponent(labelFilter)}`);
  for (const n of nets.body) await raw(`/networks/${n.Id}`, "DELETE");
}

beforeAll(cleanup, 60_000);
afterAll(cleanup, 60_000);

describe("DockerEngine (real engine)", () => {
  test("ping", async () => {
    await expect(engine.ping()).resolves.toBeUndefined();
  });

  test("ensureNetwork is idempotent and race-safe", async () => {
    // Same engine (merged in process) and separate engines (racing at the Docker API).
    const others = [new DockerEngine({ socketPath: SOCKET }), new DockerEngine({ socketPath: SOCKET })];
    await Promise.all([
      engine.ensureNetwork(NETWORK, TEST_LABELS),
      engine.ensureNetwork(NETWORK, TEST_LABELS),
      ...others.map((e) => e.ensureNetwork(NETWORK, TEST_LABELS)),
    ]);
    await engine.ensureNetwork(NETWORK, TEST_LABELS);
    const nets = await raw<{ Name: string; Driver: string; Labels: Record<string, string> }[]>(
      `/networks?filters=${encodeURIComponent(JSON.stringify({ name: [NETWORK] }))}`,
    );
    const ours = nets.body.filter((n) => n.Name === NETWORK);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.Driver).toBe("bridge");
    expect(ours[0]!.Labels["kiln.managed"]).toBe("true");
  });

  test(
    "Node base image: assembled from the host when the preferred image cannot be pulled; reused after",
    async () => {
      const ref = await ensureNodeBaseImage(engine, { preferred: "node:20-bookworm-slim", ref: BASE_REF, labels: TEST_LABELS });
      expect(ref).toBe(BASE_REF);
      const first = await raw<{ Id: string }>(`/images/${encodeURIComponent(BASE_REF)}/json`);
      expect(first.status).toBe(200);
      const again = await ensureNodeBaseImage(engine, { ref: BASE_REF, labels: TEST_LABELS });
      expect(again).toBe(BASE_REF);
      const second = await raw<{ Id: string }>(`/images/${encodeURIComponent(BASE_REF)}/json`);
      expect(second.body.Id).toBe(first.body.Id);

      const out = await runToExit(
        spec("node-e", {
          user: "app",
          cmd: ["node", "-e", "console.log('node', process.version, require('os').userInfo().username); console.error('to stderr')"],
        }),
      );
      expect(out.code).toBe(0);
      expect(out.lines).toContain(`node ${await hostNodeVersion()} app`);
      expect(out.lines).toContain("to stderr");

      // /usr/bin/env for npm's shebang, a shell, and npm itself.
      const npm = await runToExit(spec("npm-version", { cmd: ["sh", "-c", "npm --version && ls /tmp -ld"] }));
      expect(npm.code).toBe(0);
      expect(npm.lines[0]).toMatch(/^\d+\.\d+\.\d+$/);
      expect(npm.lines[1]).toStartWith("drwxrwxrwt");
    },
    300_000, // assembling the image from the host is slow on a fresh machine
  );

  test(
    "build with a cache mount installs an npm dependency; the image runs",
    async () => {
      const lines: string[] = [];
      const tag = "kiln-test/docker-engine-app:1";
      const { imageId } = await engine.buildImage({
        context: context({
          Dockerfile: [
            `FROM ${BASE_REF}`,
            "WORKDIR /app",
            "COPY package.json ./",
            "RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund",
            "COPY index.js ./",
            'CMD ["node", "index.js"]',
          ].join("\n"),
          "package.json": JSON.stringify({ name: "t", version: "1.0.0", dependencies: { "is-number": "7.0.0" } }),
          "index.js": "console.log('isNumber(5) =', require('is-number')(5));",
        }),
        dockerfile: "Dockerfile",
        tag,
        labels: TEST_LABELS,
        onLine: (l) => lines.push(l),
      });
      expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(lines.some((l) => l.includes("RUN --mount=type=cache,target=/root/.npm npm install"))).toBe(true);
      expect(lines.some((l) => /added 1 package/.test(l))).toBe(true);
      const out = await runToExit(spec("app", { image: tag, user: "app" }));
      expect(out).toEqual({ code: 0, lines: ["isNumber(5) = true"] });
    },
    120_000,
  );

  test(
    "a failing build throws a StepError naming the failing command",
    async () => {
      const lines: string[] = [];
      const err = await engine
        .buildImage({
          context: context({ "Dockerfile": `FROM ${BASE_REF}\nRUN echo fine\nRUN echo going-down && exit 7\n` }),
          dockerfile: "Dockerfile",
          tag: "kiln-test/docker-engine-fail:1",
          labels: TEST_LABELS,
          onLine: (l) => lines.push(l),
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepError);
      expect((err as StepError).message).toBe("the build step `echo going-down && exit 7` failed (exit code 7); its last lines:\n  going-down");
      expect(lines).toContain("going-down");
    },
    60_000,
  );

  test(
    "a build is cancelled by its signal",
    async () => {
      const ac = new AbortController();
      const err = await engine
        .buildImage({
          context: context({ Dockerfile: `FROM ${BASE_REF}\nRUN echo started-${Date.now()} && sleep 60\n` }),
          dockerfile: "Dockerfile",
          tag: "kiln-test/docker-engine-cancel:1",
          labels: TEST_LABELS,
          signal: ac.signal,
          onLine: (l) => {
            if (l.startsWith("started-")) ac.abort();
          },
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe("AbortError");
      // Not built: had the abort been ignored, the 60 s step would have finished and tagged it (or the test timed out).
      expect(await engine.imageExists("kiln-test/docker-engine-cancel:1")).toBe(false);
    },
    30_000,
  );

  test(
    "a hardened container: caps dropped, no-new-privileges, init, port on 127.0.0.1 only; logs follow",
    async () => {
      const server = [
        "let i = 0;",
        "require('http').createServer((q, s) => s.end('ok')).listen(8080, () => console.log('listening'));",
        "setInterval(() => console.log('tick', i++), 100);",
      ].join(" ");
      const id = await engine.createContainer(
        spec("web", {
          user: "app",
          cmd: ["node", "-e", server],
          publishPort: 8080,
          readOnlyRootfs: true,
          tmpfs: { "/tmp": "rw,size=16m" },
          env: { GREETING: "hi" },
        }),
      );
      await engine.startContainer(id);
      await engine.startContainer(id); // already started: 304 is fine

      const hc = (await raw<{ HostConfig: Record<string, unknown>; NetworkSettings: { Ports: Record<string, { HostIp: string }[]> } }>(
        `/containers/${id}/json`,
      )).body;
      expect(hc.HostConfig.CapDrop).toEqual(["ALL"]);
      expect(hc.HostConfig.SecurityOpt).toEqual(["no-new-privileges:true"]);
      expect(hc.HostConfig.Init).toBe(true);
      expect(hc.HostConfig.ReadonlyRootfs).toBe(true);
      expect(hc.HostConfig.PidsLimit).toBe(128);
      const bindings = Object.values(hc.NetworkSettings.Ports).flat();
      expect(bindings.length).toBeGreaterThan(0);
      for (const b of bindings) expect(b.HostIp).toBe("127.0.0.1");

      const info = await engine.inspectContainer(id);
      expect(info?.running).toBe(true);
      expect(info?.name).toBe("kiln-test-docker-engine-web");
      expect(info?.published).toMatch(/^127\.0\.0\.1:\d+$/);
      expect((await engine.listContainers(TEST_LABELS)).map((c) => c.id)).toContain(id);

      // The app answers on the published address.
      const body = await until("the app to answer", () => fetch(`http://${info?.published}/`).then((r) => r.text()).then((t) => t === "ok" && t).catch(() => false), 60_000);
      expect(body).toBe("ok");

      // followLogs until aborted: resolves quietly.
      const ac = new AbortController();
      const got: [LogStream, string][] = [];
      await engine.followLogs(id, {
        signal: ac.signal,
        onLine: (stream, text) => {
          got.push([stream, text]);
          if (got.filter(([, t]) => t.startsWith("tick")).length >= 3) ac.abort();
        },
      });
      expect(got[0]).toEqual(["runtime", "listening"]);
      expect(got.filter(([, t]) => t.startsWith("tick")).length).toBeGreaterThanOrEqual(3);

      // followLogs ends by itself when the container stops.
      await Bun.sleep(1000); // so that "listening" is more than 0.5 s old
      const recent: string[] = [];
      const following = engine.followLogs(id, {
        sinceSeconds: 0.5,
        signal: new AbortController().signal,
        onLine: (_s, t) => recent.push(t),
      });
      await until("a tick newer than `since`", async () => recent.some((t) => t.startsWith("tick")), 30_000);
      await engine.stopContainer(id, 1);
      await following;
      expect(recent.some((t) => t.startsWith("tick"))).toBe(true);
      expect(recent).not.toContain("listening"); // older than `since`

      const stopped = await engine.inspectContainer(id);
      expect(stopped?.running).toBe(false);
      expect(stopped?.status).toBe("exited");

      await engine.stopContainer(id); // already stopped: fine
      await engine.removeContainer(id);
      expect(await engine.inspectContainer(id)).toBeNull();
    },
    60_000,
  );

  test("removing or stopping what is gone is not an error", async () => {
    await engine.removeContainer("kiln-test-docker-engine-never-existed");
    await engine.stopContainer("kiln-test-docker-engine-never-existed");
    await engine.removeImage("kiln-test/never-existed:1");
    expect(await engine.inspectContainer("kiln-test-docker-engine-never-existed")).toBeNull();
    expect(await engine.imageExists("kiln-test/never-existed:1")).toBe(false);
  });

  test("listImages filters by label and drops <none> tags", async () => {
    const images = await engine.listImages(TEST_LABELS);
    const tags = images.flatMap((i) => i.tags);
    expect(tags).toContain(BASE_REF);
    expect(tags).toContain("kiln-test/docker-engine-app:1");
    expect(tags).not.toContain("<none>:<none>");
    for (const img of images) expect(img.labels["kiln.test.suite"]).toBe("docker-engine");
  });
});

async function hostNodeVersion(): Promise<string> {
  const res = await run({ argv: ["node", "--version"] });
  return res.tail[0] ?? "";
}

test("loadImage takes an image tarball (the Railpack path's docker load)", async () => {
  const engine = new DockerEngine();
  const ref = await ensureNodeBaseImage(engine);
  const saved = await fetch(`http://docker/v1.41/images/${encodeURIComponent(ref)}/get`, { unix: "/var/run/docker.sock" } as RequestInit);
  expect(saved.status).toBe(200);
  await engine.loadImage(new Uint8Array(await saved.arrayBuffer()));
  expect(await engine.imageExists(ref)).toBe(true);
  await expect(engine.loadImage(new TextEncoder().encode("not a tarball"))).rejects.toThrow(/docker load failed|failed/);
}, 120_000);
