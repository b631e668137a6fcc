/**
 * Log retention: every stream keeps at most `maxAgeMs` of history and `maxBytes` as stored
 * (compressed); a periodic sweep removes whole chunks, oldest first, and tells the stream what
 * went with one system line, so a reader sees why its history starts later.
 *
 *   const retention = new LogRetention({ logs: store.logs, maxAgeMs, maxBytes, announce });
 *   retention.start();   // sweeps now, then every intervalMs
 *   await retention.sweep();
 *
 * The newest chunk of a stream is never removed (the store keeps the last seq), so numbering
 * carries on after a sweep and a restart. With log offload on, `logs` is TieredLogs
 * (tiered-logs.ts): offloaded segments count too and go first, their objects deleted.
 */
import { PeriodicPass } from "./periodic-pass.ts";
import type { StreamKey } from "../core/logs.ts";
import type { LogArchive, LogPruned } from "../core/ports/store.ts";

export interface LogRetentionOptions {
  logs: Pick<LogArchive, "usage" | "prune">;
  maxAgeMs: number;
  maxBytes: number;
  /** Adds a system line to the stream (main: through the bus). */
  announce: (stream: StreamKey, text: string) => Promise<void> | void;
  now?: () => number;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export type Swept = LogPruned & { stream: StreamKey };

export class LogRetention {
  readonly #passes: PeriodicPass<Swept[]>;

  constructor(private readonly o: LogRetentionOptions) {
    this.#passes = new PeriodicPass(() => this.pass(), o.intervalMs ?? 10 * 60_000, o.onError);
  }

  /** One pass over every stream; what it removed, per stream that lost lines. One at a time. */
  sweep(): Promise<Swept[]> {
    return this.#passes.run();
  }

  start(): void {
    this.#passes.start();
  }

  stop(): Promise<void> {
    return this.#passes.stop();
  }

  private async pass(): Promise<Swept[]> {
    const before = (this.o.now ?? Date.now)() - this.o.maxAgeMs;
    const swept: Swept[] = [];
    for (const { stream } of await this.o.logs.usage()) {
      const pruned = await this.o.logs.prune(stream, { before, maxBytes: this.o.maxBytes });
      if (pruned.lines === 0) continue;
      swept.push({ stream, ...pruned });
      await this.o.announce(stream, retentionLine(pruned, this.o.maxAgeMs, this.o.maxBytes));
    }
    return swept;
  }
}

export function retentionLine(p: LogPruned, maxAgeMs: number, maxBytes: number): string {
  const days = Math.round(maxAgeMs / 86_400_000);
  const mib = Math.round(maxBytes / 1024 / 1024);
  const cold = p.segments ? `, ${p.segments} offloaded segment${p.segments === 1 ? "" : "s"} among them, objects deleted` : "";
  return `log retention removed ${p.lines} stored lines through seq ${p.throughSeq} (${Math.ceil(p.bytes / 1024)} KiB${cold}); this log keeps ${days} days and at most ${mib} MiB`;
}
