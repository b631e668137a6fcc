/**
 * Named volumes and entrypoints on DockerEngine, against the real engine on /var/run/docker.sock:
 * data outlives the container that wrote it, listVolumes filters by label, removeVolume refuses a
 * volume in use (naming the container), ensureVolume is idempotent, and an entrypoint overrides
 * (or, as [], clears) the image's. Uses the local Node base image (no registry here). Every
 * container, volume and image made here carries TEST_LABELS and is removed before and after.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KilnError } from "../../src/core/errors.ts";
import type { ContainerSpec } from "../../src/core/ports/runtime.ts";
import { ensureNodeBaseImage } from "../../src/adapters/docker/base-image.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { tarStream } from "../../src/adapters/docker/rootfs-tar.ts";

const SOCKET = "/var/run/docker.sock";
const TEST_LABELS = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.suite": "docker-volumes" };
const NETWORK = "kiln-test-docker-volumes";
const PREFIX = "kiln-test-docker-volumes";
const VOLUME = `${PREFIX}-data`;
const ENTRY_IMAGE = "kiln-test/docker-volumes-entrypoint:1";
const engine = new DockerEngine({ socketPath: SOCKET });
let baseImage = "";

/** Raw engine JSON, for asserting what the adapter does not expose. */
async function raw<T>(path: string, method = "GET"): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://docker/v1.41${path}`, { method, unix: SOCKET } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

function spec(name: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: `${PREFIX}-${name}`,
    image: baseImage,
    labels: TEST_LABELS,
    env: {},
    network: NETWORK,
    memoryBytes: 128 * 1024 * 1024,
    nanoCpus: 500_000_000,
    pidsLimit: 64,
    restartPolicy: "no",
    ...over,
  };
}

/** Create, start, wait (bounded) for exit; its exit code and output. The container is removed. */
async function runToExit(s: ContainerSpec): Promise<{ code: number; lines: string[] }> {
  const id = await engine.createContainer(s);
  try {
    await engine.startContainer(id);
    const code = await engine.waitContainer(id, AbortSignal.timeout(30_000));
    return { code, lines: await engine.tailLogs(id, 50) };
  } finally {
    await engine.removeContainer(id);
  }
}

async function cleanup(): Promise<void> {
  for (const c of await engine.listContainers(TEST_LABELS)) await engine.removeContainer(c.id);
  for (const v of await engine.listVolumes(TEST_LABELS)) await engine.removeVolume(v.name);
  for (const img of await engine.listImages(TEST_LABELS)) await engine.removeImage(img.id);
  const nets = await raw<{ Id: string }[]>(`/networks?filters=${encodeURIComponent(JSON.stringify({ label: ["kiln.test.suite=docker-volumes"] }))}`);
  for (const n of nets.body) await raw(`/networks/${n.Id}`, "DELETE");
}

beforeAll(async () => {
  await cleanup();
  baseImage = await ensureNodeBaseImage(engine); // assembled from the host's node on first use: slow on a fresh machine
  await engine.ensureNetwork(NETWORK, TEST_LABELS);
}, 300_000);
afterAll(async () => {
  await cleanup();
  // Nothing of ours is left behind.
  expect(await engine.listContainers(TEST_LABELS)).toEqual([]);
  expect(await engine.listVolumes(TEST_LABELS)).toEqual([]);
}, 60_000);

describe("named volumes (real engine)", () => {
  test("ensureVolume twice is fine; the existing volume is kept as is", async () => {
    await engine.ensureVolume(VOLUME, TEST_LABELS);
    const first = await raw<{ Name: string; CreatedAt: string; Labels: Record<string, string> }>(`/volumes/${VOLUME}`);
    expect(first.status).toBe(200);
    await engine.ensureVolume(VOLUME, { ...TEST_LABELS, "kiln.test.extra": "ignored" });
    const second = await raw<{ Name: string; CreatedAt: string; Labels: Record<string, string> }>(`/volumes/${VOLUME}`);
    expect(second.body.CreatedAt).toBe(first.body.CreatedAt);
    expect(second.body.Labels).toEqual(TEST_LABELS);
  });

  test("listVolumes finds the volume by its labels, and not by labels it lacks", async () => {
    await engine.ensureVolume(VOLUME, TEST_LABELS);
    const found = await engine.listVolumes({ "kiln.test.suite": "docker-volumes" });
    const ours = found.find((v) => v.name === VOLUME);
    expect(ours?.labels).toEqual(TEST_LABELS);
    expect(ours?.createdAt).toBeGreaterThan(Date.parse("2020-01-01"));
    expect(ours?.createdAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(await engine.listVolumes({ ...TEST_LABELS, "kiln.test.absent": "x" })).toEqual([]);
  });

  test("a file written to the volume by one container is read by a second container made later", async () => {
    await engine.ensureVolume(VOLUME, TEST_LABELS);
    const writer = await runToExit(
      spec("writer", { volumes: [{ name: VOLUME, target: "/data" }], cmd: ["sh", "-c", "echo persisted-42 > /data/note.txt && echo wrote"] }),
    );
    expect(writer).toEqual({ code: 0, lines: ["wrote"] });
    expect(await engine.inspectContainer(`${PREFIX}-writer`)).toBeNull(); // the writer is gone

    const reader = await runToExit(spec("reader", { volumes: [{ name: VOLUME, target: "/srv/state" }], cmd: ["cat", "/srv/state/note.txt"] }));
    expect(reader).toEqual({ code: 0, lines: ["persisted-42"] });
  });

  test("removeVolume is refused while a container holds the volume, naming it; succeeds once it is removed", async () => {
    await engine.ensureVolume(VOLUME, TEST_LABELS);
    // Created, never started: a container in any state holds its volumes.
    const holder = await engine.createContainer(spec("holder", { volumes: [{ name: VOLUME, target: "/data" }], cmd: ["true"] }));
    const err = await engine.removeVolume(VOLUME).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).kind).toBe("conflict");
    expect((err as KilnError).message).toContain(VOLUME);
    expect((err as KilnError).message).toContain(`${PREFIX}-holder`);
    expect((err as KilnError).hint).toContain(`${PREFIX}-holder`);
    expect((await raw(`/volumes/${VOLUME}`)).status).toBe(200); // still there

    await engine.removeContainer(holder);
    await engine.removeVolume(VOLUME);
    expect((await raw(`/volumes/${VOLUME}`)).status).toBe(404);
    expect((await engine.listVolumes(TEST_LABELS)).map((v) => v.name)).not.toContain(VOLUME);
    await engine.removeVolume(VOLUME); // absent: fine
  });

  test("a volume name that is not [a-zA-Z0-9][a-zA-Z0-9_.-]{0,127} is refused before the engine sees it", async () => {
    for (const bad of ["/etc", "../x", "a/b", "-x", "", "x".repeat(129)]) {
      for (const call of [() => engine.ensureVolume(bad, TEST_LABELS), () => engine.removeVolume(bad)]) {
        const err = await call().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(KilnError);
        expect((err as KilnError).kind).toBe("bad_request");
      }
    }
    const err = await engine.createContainer(spec("bad-volume", { volumes: [{ name: "/etc", target: "/data" }] })).catch((e: unknown) => e);
    expect((err as KilnError).kind).toBe("bad_request");
    expect(await engine.inspectContainer(`${PREFIX}-bad-volume`)).toBeNull();
  });
});

describe("entrypoint (real engine)", () => {
  test('entrypoint ["/bin/sh","-c"] with cmd ["echo hi"] runs that', async () => {
    const out = await runToExit(spec("sh-c", { entrypoint: ["/bin/sh", "-c"], cmd: ["echo hi"] }));
    expect(out).toEqual({ code: 0, lines: ["hi"] });
  });

  test(
    "an entrypoint overrides the image's; [] clears it",
    async () => {
      const enc = new TextEncoder();
      const dockerfile = `FROM ${baseImage}\nENTRYPOINT ["/bin/sh", "-c", "echo from-image-entrypoint; exit 3", "--"]\n`;
      await engine.buildImage({
        context: tarStream([{ type: "file", path: "Dockerfile", mode: 0o644, data: enc.encode(dockerfile) }]),
        dockerfile: "Dockerfile",
        tag: ENTRY_IMAGE,
        labels: TEST_LABELS,
        onLine: () => {},
      });
      expect(await runToExit(spec("entry-image", { image: ENTRY_IMAGE, cmd: ["ignored"] }))).toEqual({ code: 3, lines: ["from-image-entrypoint"] });
      expect(await runToExit(spec("entry-override", { image: ENTRY_IMAGE, entrypoint: ["/bin/echo"], cmd: ["overridden"] }))).toEqual({
        code: 0,
        lines: ["overridden"],
      });
      expect(await runToExit(spec("entry-cleared", { image: ENTRY_IMAGE, entrypoint: [], cmd: ["sh", "-c", "echo cleared"] }))).toEqual({
        code: 0,
        lines: ["cleared"],
      });
    },
    120_000,
  );
});
