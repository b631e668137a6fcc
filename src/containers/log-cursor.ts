/**
 * How far a container's output has been read, so every line is taken exactly once however the
 * engine repeats itself. Docker numbers nothing: a line is known only by its output stream
 * (stdout, stderr) and its engine time (ns), and two lines may share a time. So the cursor keeps,
 * per output stream, the last time taken and how many lines carried it — the line's position at
 * that time. Within one output stream the engine's times never go down (one copier stamps them in
 * order), which is what makes (time, position) a key.
 *
 *   const cursor = new LogCursor();
 *   cursor.beginRead();                     // each request (follow or resume) starts a read
 *   if (cursor.take("stdout", ns) !== "seen") publish(text);
 *   engine.follow({ since: cursor.resumeFrom() }) // inclusive: the lines at that time come again
 *
 * `take` says "seen" for a line already taken (a resume's overlap, or the engine re-reading a
 * file after a rotation), "gap" for a new line when the read began past the last line taken (that
 * line is no longer kept, nor what followed it), and "new" otherwise. A time going down inside one
 * read is the engine re-reading a file: Docker 20.10's follow does that after a rotation, sometimes
 * having skipped a rotated file before. Whether it did is not in the stream: `takeRereadCheck`
 * hands out the span to ask the engine about, and `missing` compares the engine's count of lines
 * per second in it with what this read took (lines per second, so a few numbers, not every line).
 */
import type { OutputStream } from "../formats/log-demux.ts";

interface Mark {
  /** Engine time of the last line taken. */
  ns: bigint;
  /** How many lines taken carry that time. */
  count: number;
  /** Lines at `ns` met since this read (re)started below it: the first `count` are replays. */
  replay: number;
  /** The last time met in this read (null before the first). */
  lastInRead: bigint | null;
  /** Whether this read has met the marked line itself (false: it is no longer kept). */
  metMark: boolean;
  /** This read's first line taken, and lines taken per second. */
  firstTaken: bigint | null;
  perSecond: Map<bigint, number>;
}

/** "gap": new, but the read began past the last line taken — the engine no longer keeps what lay between. */
export type Verdict = "new" | "seen" | "gap";

/** A span of one output stream to recount after a re-read: [from, to) in engine ns. */
export interface RereadCheck {
  stream: OutputStream;
  from: bigint;
  to: bigint;
  /** Lines this read took per second (epoch s) of the span, when the re-read was seen. */
  taken: Map<bigint, number>;
}

export class LogCursor {
  readonly #marks = new Map<OutputStream, Mark>();
  #rereads = 0;
  #checks: RereadCheck[] = [];

  /** A new request to the engine: it starts from `resumeFrom()` (or the beginning). */
  beginRead(): void {
    for (const m of this.#marks.values()) {
      m.replay = 0;
      m.lastInRead = null;
      m.metMark = false;
      m.firstTaken = null;
      m.perSecond = new Map();
    }
  }

  take(stream: OutputStream, ns: bigint): Verdict {
    const m = this.#marks.get(stream);
    if (!m) {
      const fresh: Mark = { ns, count: 1, replay: 1, lastInRead: ns, metMark: true, firstTaken: null, perSecond: new Map() };
      this.#marks.set(stream, fresh);
      return taken(fresh, ns, "new");
    }
    if (m.lastInRead !== null && ns < m.lastInRead) {
      // Going back inside one read: the engine reopened a file. What follows up to the mark is a replay.
      this.#rereads++;
      m.replay = 0;
      if (m.firstTaken !== null && m.firstTaken < ns) {
        const taken = new Map<bigint, number>();
        for (const [sec, n] of m.perSecond) if (sec <= ns / SECOND) taken.set(sec, n);
        this.#checks.push({ stream, from: m.firstTaken, to: ns, taken });
      }
    }
    m.lastInRead = ns;
    if (ns < m.ns) {
      m.replay = 0;
      return "seen";
    }
    if (ns === m.ns) {
      m.metMark = true;
      if (++m.replay <= m.count) return "seen";
      m.count = m.replay;
      return taken(m, ns, "new");
    }
    const gap = !m.metMark;
    m.ns = ns;
    m.count = 1;
    m.replay = 1;
    m.metMark = true;
    return taken(m, ns, gap ? "gap" : "new");
  }

  /**
   * A cursor that resumes after stored marks (a Kiln restarted): per output stream, the engine
   * time of the last line stored and how many lines stored carry it.
   */
  static restore(marks: readonly { output: OutputStream; ns: bigint; count: number }[]): LogCursor {
    const cursor = new LogCursor();
    for (const m of marks) {
      cursor.#marks.set(m.output, { ns: m.ns, count: m.count, replay: 0, lastInRead: null, metMark: false, firstTaken: null, perSecond: new Map() });
    }
    return cursor;
  }

  /** Where the last line taken from `stream` lies: its engine time and position at that time. */
  position(stream: OutputStream): { ns: bigint; count: number } | undefined {
    const m = this.#marks.get(stream);
    return m && { ns: m.ns, count: m.count };
  }

  /** The spans to recount since the last call (one per re-read that went back into this read). */
  takeRereadCheck(): RereadCheck[] {
    const out = this.#checks;
    this.#checks = [];
    return out;
  }

  /** The inclusive engine time to resume from (ns), or undefined when nothing was taken yet. */
  resumeFrom(): bigint | undefined {
    let min: bigint | undefined;
    for (const m of this.#marks.values()) if (min === undefined || m.ns < min) min = m.ns;
    return min;
  }

  /** How many times the engine went back inside one read (each a re-read after a rotation). */
  get rereads(): number {
    return this.#rereads;
  }
}

const SECOND = 1_000_000_000n;

/**
 * Seconds of counts kept per stream and read. A skip loses the file before the re-read one, which
 * a writer fast enough to leave the follow a file behind fills in far less; older seconds are let
 * go and the span to recount starts after them (so a long follow's memory stays bounded).
 */
const KEPT_SECONDS = 4096;

function taken(m: Mark, ns: bigint, verdict: Verdict): Verdict {
  m.firstTaken ??= ns;
  const sec = ns / SECOND;
  m.perSecond.set(sec, (m.perSecond.get(sec) ?? 0) + 1);
  if (m.perSecond.size > KEPT_SECONDS) {
    const oldest = m.perSecond.keys().next().value!; // times only grow within a stream: insertion order
    m.perSecond.delete(oldest);
    m.firstTaken = (oldest + 1n) * SECOND;
  }
  return verdict;
}

/**
 * Lines of a re-read's span the engine has that the read did not take: the engine's count per
 * second (lines of the stream with from <= ns < to) against the read's. A lower bound — the
 * engine may already have dropped part of the span.
 */
export function missing(check: RereadCheck, engineCounts: Map<bigint, number>): number {
  let lost = 0;
  for (const [sec, n] of engineCounts) lost += Math.max(0, n - (check.taken.get(sec) ?? 0));
  return lost;
}

/** Adds one engine line to per-second counts, if it lies in the check's span and stream. */
export function countInSpan(check: RereadCheck, counts: Map<bigint, number>, stream: OutputStream, ns: bigint): void {
  if (stream !== check.stream || ns < check.from || ns >= check.to) return;
  const sec = ns / SECOND;
  counts.set(sec, (counts.get(sec) ?? 0) + 1);
}
