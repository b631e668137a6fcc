/**
 * `kiln` with a heap probe, for the footprint bench (bench/footprint.bench.ts --heap): runs the
 * CLI as bin/kiln does, and on SIGUSR2 writes what the JS heap holds (bun:jsc heapStats, the
 * object types with the most instances, the bytes by type and the largest objects from a heap
 * snapshot, and process.memoryUsage) to $KILN_DATA_DIR/heap.json.
 * When $KILN_DATA_DIR/probe-gc holds "1" it first runs a full collection (live objects only).
 *
 *   bun bench/kiln-heap-probe.ts serve
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { heapStats } from "bun:jsc";

const dataDir = process.env.KILN_DATA_DIR ?? ".";

/** From a heap snapshot (nodes: id, size, class, flags): bytes by class, and the largest objects. */
function bySize(): { topBytes: [string, number][]; largest: [string, number][] } {
  const snap = Bun.generateHeapSnapshot() as unknown as { nodes: number[]; nodeClassNames: string[] };
  const bytes = new Map<string, number>();
  const largest: [string, number][] = [];
  for (let i = 0; i < snap.nodes.length; i += 4) {
    const cls = snap.nodeClassNames[snap.nodes[i + 2]!]!;
    const size = snap.nodes[i + 1]!;
    bytes.set(cls, (bytes.get(cls) ?? 0) + size);
    if (size >= 64 * 1024) largest.push([cls, size]);
  }
  return { topBytes: [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 15), largest: largest.sort((a, b) => b[1] - a[1]).slice(0, 15) };
}

process.on("SIGUSR2", () => {
  const gcFlag = join(dataDir, "probe-gc");
  if (existsSync(gcFlag) && readFileSync(gcFlag, "utf8").trim() === "1") Bun.gc(true);
  const h = heapStats();
  const top = Object.entries(h.objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 25);
  const out = { heapSize: h.heapSize, heapCapacity: h.heapCapacity, extraMemorySize: h.extraMemorySize, objectCount: h.objectCount, protectedObjectCount: h.protectedObjectCount, top, ...bySize(), memory: process.memoryUsage() };
  writeFileSync(join(dataDir, "heap.json"), JSON.stringify(out, null, 1));
});

const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
