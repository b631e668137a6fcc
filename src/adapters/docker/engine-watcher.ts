/**
 * EngineEvents over Docker's event stream: GET /events (filters type=container, label
 * kiln.managed=true) read line by line, decoded (events-decode.ts) and fanned out to listeners.
 * When the stream ends or breaks (dockerd stopped or restarted) listeners get `{engine: lost}`;
 * the watcher then pings with backoff (100 ms doubling to 5 s) until the engine answers, connects
 * again and says `{engine: back}` — events of the gap are lost, so `back` means "reconcile in full".
 * No busy loop: one request in flight at a time, a sleep between attempts; stop() ends everything.
 *
 *   const watcher = new EngineWatcher({ socketPath });
 *   const off = watcher.subscribe((e) => ...);
 *   await watcher.start();   // resolves once the stream is connected (or the first attempt failed)
 *   watcher.stop();
 */
import type { EngineEvent, EngineEvents } from "../../core/ports/engine-events.ts";
import { MANAGED } from "../../core/labels.ts";
import { decodeEngineEvent } from "./events-decode.ts";
import { EngineHttp, readJsonLines } from "./http.ts";

/** Longest start() waits for the event stream to connect. */
const START_WAIT_MS = 2_000;

export interface EngineWatcherOptions {
  socketPath?: string;
  apiVersion?: string;
  /** Backoff between reconnection attempts (default 100 ms doubling to 5 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Where a listener's exception goes (default: console.error). */
  onListenerError?: (err: unknown) => void;
}

/** A stream connected at least this long resets the backoff. */
const STABLE_MS = 5000;
const FILTERS = JSON.stringify({ type: ["container"], label: [`${MANAGED}=true`] });

export class EngineWatcher implements EngineEvents {
  readonly #http: EngineHttp;
  readonly #listeners = new Set<(e: EngineEvent) => void>();
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #onListenerError: (err: unknown) => void;
  #abort: AbortController | null = null;
  #loop: Promise<void> | null = null;
  /** Times the stream was (re)connected, and lost; for tests and status. */
  connects = 0;
  losses = 0;

  constructor({ socketPath = "/var/run/docker.sock", apiVersion = "v1.41", minDelayMs = 100, maxDelayMs = 5000, onListenerError = (e) => console.error("engine events:", e) }: EngineWatcherOptions = {}) {
    this.#http = new EngineHttp(socketPath, apiVersion);
    this.#minDelay = minDelayMs;
    this.#maxDelay = maxDelayMs;
    this.#onListenerError = onListenerError;
  }

  subscribe(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connects and keeps the stream connected until stop(); resolves after the first attempt. */
  start(): Promise<void> {
    if (this.#loop) return Promise.resolve();
    const abort = (this.#abort = new AbortController());
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((r) => (firstAttempt = r));
    this.#loop = this.#run(abort.signal, firstAttempt).finally(firstAttempt);
    // Docker sends the stream's headers at once, but a proxy in front of the socket may hold them until
    // the first event: boot waits for the connection at most START_WAIT_MS, then goes on (the stream
    // keeps connecting; a reconcile pass covers anything before it).
    const waited = setTimeout(firstAttempt, START_WAIT_MS);
    return attempted.finally(() => clearTimeout(waited));
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop?.catch(() => {});
    this.#abort = null;
    this.#loop = null;
  }

  async #run(signal: AbortSignal, attempted: () => void): Promise<void> {
    let delay = this.#minDelay;
    let lost = false;
    while (!signal.aborted) {
      let connectedAt = 0;
      try {
        const res = await this.#http.request({ path: "/events", query: { filters: FILTERS }, signal });
        connectedAt = Date.now();
        this.connects++;
        if (lost) {
          lost = false;
          this.#emit({ kind: "engine", state: "back", at: Date.now() });
        }
        attempted();
        await readJsonLines(res.body ?? new ReadableStream({ start: (c) => c.close() }), (msg) => {
          const event = decodeEngineEvent(msg);
          if (event) this.#emit(event);
        });
      } catch {
        // the engine is unreachable or the stream broke: below
      }
      attempted();
      if (signal.aborted) return;
      if (!lost && this.connects > 0) {
        lost = true;
        this.losses++;
        this.#emit({ kind: "engine", state: "lost", at: Date.now() });
      }
      // A stream that held a while earns a fresh backoff; one that ends at once does not (no busy loop).
      if (connectedAt && Date.now() - connectedAt >= STABLE_MS) delay = this.#minDelay;
      // Wait, then ping until the engine answers, then connect again (a ping is cheaper than a failed stream).
      do {
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.#maxDelay);
      } while (!signal.aborted && !(await this.#pings(signal)));
    }
  }

  async #pings(signal: AbortSignal): Promise<boolean> {
    try {
      await this.#http.send({ path: "/_ping", signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) });
      return true;
    } catch {
      return false;
    }
  }

  #emit(event: EngineEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
