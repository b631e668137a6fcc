/**
 * The log archive across both tiers: hot chunks in the store, cold segments in S3 (offload.ts moves
 * them). A decorator around the store's LogArchive, so the bus's replay, the WebSocket stream and
 * the search read offloaded lines without knowing where they are.
 *
 *   const logs = new TieredLogs({ hot: store.logs, tiers: store.logTiers, objects });
 *   await logs.read(key, 1, 1000);     // from a segment (fetched once, cached), then from chunks
 *
 * Guarantees: a stream's segments hold only seqs below its chunks, so `read` goes segment by
 * segment, then to the chunks, with no gap that retention did not make. `read` asks the chunks
 * first and the segments only for what they lack, so a segment committed between the two
 * queries is still found. Fetched segments are kept in a small LRU (`cacheSegments`). Without an
 * offload target (KILN_LOG_OFFLOAD_URL unset later) segments are skipped like lines retention removed.
 * Retention (`prune`) removes segments first, object before row; `deleteFor` purges the stream's objects.
 */
import { KilnError, errorMessage } from "../core/errors.ts";
import type { LogLine, SourceMark, StreamKey } from "../core/logs.ts";
import type { LogObjects } from "../core/ports/log-objects.ts";
import type { LogArchive, LogPage, LogPruned, LogSearch, LogSegment, LogStorage, LogTiers, LogUsage, StoredChunk } from "../core/ports/store.ts";
import { ChunkScan, logFilter } from "../adapters/store/log-filter.ts";
import { chunkLines, unpackSegment } from "../adapters/store/log-segment.ts";
import { DEFAULT_SCAN_BUDGET } from "../adapters/store/sqlite-logs.ts";
import { streamDir } from "./segment-keys.ts";

const MAX = Number.MAX_SAFE_INTEGER;

export interface TieredLogsOptions {
  hot: LogArchive;
  tiers: LogTiers;
  /** The offload target; null when offload is off. */
  objects: LogObjects | null;
  /** Fetched segments kept in memory (default 8). */
  cacheSegments?: number;
  /** Failures with no caller: a stream's objects that could not be deleted. */
  onError?: (err: unknown) => void;
}

export class TieredLogs implements LogArchive {
  readonly #o: TieredLogsOptions;
  readonly #cache = new Map<string, Promise<StoredChunk[]>>();

  constructor(o: TieredLogsOptions) {
    this.#o = o;
  }

  appendChunk(stream: StreamKey, lines: LogLine[], marks?: readonly SourceMark[]): Promise<void> {
    return this.#o.hot.appendChunk(stream, lines, marks);
  }

  async lastSeq(stream: StreamKey): Promise<number> {
    const hot = await this.#o.hot.lastSeq(stream);
    if (hot > 0) return hot;
    const segs = await this.#o.tiers.segments(stream);
    return segs[segs.length - 1]?.lastSeq ?? 0;
  }

  async read(stream: StreamKey, sinceSeq: number, limit: number): Promise<LogLine[]> {
    const out: LogLine[] = [];
    let next = sinceSeq;
    while (out.length < limit) {
      const hot = await this.#o.hot.read(stream, next, limit - out.length);
      const first = hot[0];
      if (first && first.seq <= next) return out.concat(hot);
      // The chunks start later than asked (or hold nothing from there): the lines between may be cold.
      const seg = await this.#o.tiers.segmentFrom(stream, next);
      if (!seg || (first && seg.firstSeq > first.seq)) return out.concat(hot);
      if (this.#o.objects) {
        for (const chunk of await this.#chunksOf(seg)) {
          if (chunk.lastSeq < next) continue;
          for (const line of chunkLines(chunk)) {
            if (line.seq < next) continue;
            out.push(line);
            if (out.length >= limit) return out;
          }
        }
      }
      next = seg.lastSeq + 1;
    }
    return out;
  }

  async search(stream: StreamKey, q: LogSearch): Promise<LogPage> {
    // Taken before the hot search with no I/O between them (both are synchronous SQLite under
    // their promises): a segment committed later holds only seqs at or above this boundary.
    const boundary = await this.#o.tiers.firstHotSeq(stream);
    const page = await this.#o.hot.search(stream, q);
    const f = logFilter(q);
    const lower = f.lower;
    const upper = Math.min(f.upper, (boundary ?? MAX + 1) - 1);
    if (page.next !== null || page.lines.length >= q.limit || upper < lower || !this.#o.objects) return page;
    const scan = new ChunkScan(f, q.limit, q.scanBudget ?? DEFAULT_SCAN_BUDGET, upper, page);
    for (const seg of await this.#o.tiers.segmentsWithin(stream, { lower, upper, sinceTs: f.sinceTs, untilTs: f.untilTs })) {
      const chunks = await this.#chunksOf(seg);
      for (let c = chunks.length - 1; c >= 0; c--) {
        const chunk = chunks[c]!;
        if (chunk.firstSeq > upper || chunk.lastSeq < lower || chunk.maxTs < f.sinceTs || chunk.minTs > f.untilTs) continue;
        if (f.kinds && ![...f.kinds].some((k) => chunk.kinds.includes(`,${k},`))) continue;
        const done = scan.take(chunk.firstSeq, chunk.lastSeq, chunk.codec, chunk.body);
        if (done) return done;
      }
    }
    return scan.end();
  }

  /** Hot and cold together, per stream (a stream whose every line is cold still appears). */
  async usage(): Promise<LogUsage[]> {
    const byStream = new Map<string, LogUsage>();
    for (const u of await this.#o.hot.usage()) byStream.set(u.stream, { ...u });
    for (const stream of await this.#o.tiers.streamsWithSegments()) {
      const { cold } = await this.#o.tiers.storage(stream);
      const u = byStream.get(stream) ?? { stream, bytes: 0, lines: 0 };
      byStream.set(stream, { stream, bytes: u.bytes + cold.bytes, lines: u.lines + cold.lines });
    }
    return [...byStream.values()].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  }

  /**
   * Segments first (they are the oldest lines): each goes while it is too old or the stream, hot and
   * cold, is over `maxBytes`: its object deleted, then its row. An object that cannot be deleted keeps
   * its row (retried next sweep; reported to onError) and stops the sweep of this stream. Then the chunks.
   */
  async prune(stream: StreamKey, limits: { before: number; maxBytes: number }): Promise<LogPruned> {
    const segs = await this.#o.tiers.segments(stream);
    const pruned: LogPruned = { lines: 0, bytes: 0, throughSeq: 0 };
    let coldLeft = 0;
    // Without an offload target segments stay (nothing can delete their objects) and are not counted.
    if (segs.length > 0 && this.#o.objects) {
      const storage = await this.#o.tiers.storage(stream);
      let total = storage.hot.bytes + storage.cold.bytes;
      coldLeft = storage.cold.bytes;
      let removed = 0;
      for (const seg of segs) {
        if (seg.lastTs >= limits.before && total <= limits.maxBytes) break;
        try {
          await this.#o.objects.remove(seg.key);
        } catch (err) {
          this.#o.onError?.(err);
          return { ...pruned, segments: removed };
        }
        await this.#o.tiers.removeSegment(stream, seg.firstSeq);
        this.#cache.delete(seg.key);
        removed++;
        total -= seg.bytes;
        coldLeft -= seg.bytes;
        pruned.lines += seg.lines;
        pruned.bytes += seg.bytes;
        pruned.throughSeq = seg.lastSeq;
      }
      if (removed > 0) pruned.segments = removed;
    }
    const hot = await this.#o.hot.prune(stream, { before: limits.before, maxBytes: Math.max(0, limits.maxBytes - coldLeft) });
    if (hot.lines > 0) {
      pruned.lines += hot.lines;
      pruned.bytes += hot.bytes;
      pruned.throughSeq = hot.throughSeq;
    }
    return pruned;
  }

  /** The chunks go at once; the stream's objects are purged, and their rows dropped once that worked. */
  async deleteFor(stream: StreamKey): Promise<void> {
    await this.#o.hot.deleteFor(stream);
    const segs = await this.#o.tiers.segments(stream);
    if (segs.length === 0) return;
    for (const s of segs) this.#cache.delete(s.key);
    if (!this.#o.objects) return this.#o.tiers.removeSegmentsOf(stream);
    try {
      await this.#o.objects.removeAll(streamDir(stream));
      await this.#o.tiers.removeSegmentsOf(stream);
    } catch (err) {
      this.#o.onError?.(err);
    }
  }

  storage(stream: StreamKey): Promise<LogStorage> {
    return this.#o.tiers.storage(stream);
  }

  /** A segment's chunks: from the cache, else fetched (one fetch however many readers ask at once). */
  #chunksOf(seg: LogSegment): Promise<StoredChunk[]> {
    const cached = this.#cache.get(seg.key);
    if (cached) {
      this.#cache.delete(seg.key);
      this.#cache.set(seg.key, cached); // most recently used last
      return cached;
    }
    const objects = this.#o.objects!;
    const loading = objects.get(seg.key).then(
      (bytes) => unpackSegment(bytes).chunks,
      (err: unknown) => {
        throw new KilnError("unavailable", `offloaded log lines ${seg.firstSeq}–${seg.lastSeq} could not be read from ${objects.url}: ${errorMessage(err)}`, "check the offload target (KILN_LOG_OFFLOAD_*) is reachable, then retry");
      },
    );
    loading.catch(() => this.#cache.delete(seg.key));
    this.#cache.set(seg.key, loading);
    while (this.#cache.size > (this.#o.cacheSegments ?? 8)) this.#cache.delete(this.#cache.keys().next().value!);
    return loading;
  }
}
