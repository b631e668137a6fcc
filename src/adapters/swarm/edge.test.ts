import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerInfo } from "../../core/ports/runtime.ts";
import { edgeLabels, SwarmEdge } from "./edge.ts";

const info = (id: string, labels: Record<string, string>, running = true): ContainerInfo =>
  ({ id, name: id, labels, running, paused: false, published: `127.0.0.1:${7000 + id.length}`, image: "caddy", state: "running" }) as unknown as ContainerInfo;

test("each Kiln of a cluster keeps its own edge: another Kiln's is left alone, one from before owners is replaced, its own adopted", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-edge-"));
  const removed: string[] = [];
  const { "kiln.edge-owner": _, ...legacy } = edgeLabels("cluster1", "x");
  const listed = [info("theirs", edgeLabels("cluster1", "kiln-b")), info("old", legacy), info("mine", edgeLabels("cluster1", "kiln-a"))];
  const edge = new SwarmEdge({
    runtime: {
      listContainers: async (filter) => listed.filter((c) => Object.entries(filter).every(([k, v]) => c.labels[k] === v)),
      removeContainer: async (id) => void removed.push(id),
      createContainer: async () => {
        throw new Error("no new edge: its own runs");
      },
      startContainer: async () => {},
      inspectContainer: async () => null,
    },
    swarm: { connect: async () => {}, disconnect: async () => {} },
    instanceId: "cluster1",
    owner: "kiln-a",
    dataDir: dir,
    network: "kiln",
    image: async () => "caddy",
    pickHostPort: () => 7999,
    publicHost: "localhost",
  });
  try {
    await edge.start();
    expect(edge.containerId).toBe("mine");
    expect(removed).toEqual(["old"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
