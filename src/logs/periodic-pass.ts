/**
 * A background pass run at start and every `intervalMs`, one at a time: a call while a pass runs
 * shares it. Failures of timed passes go to `onError`; a caller of `run()` gets its own rejection.
 *
 *   const sweeps = new PeriodicPass(() => sweepOnce(), 600_000, report);
 *   sweeps.start();  await sweeps.run();  await sweeps.stop();
 */
export class PeriodicPass<T> {
  #timer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<T> | null = null;

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void = console.error,
  ) {}

  run(): Promise<T> {
    this.#running ??= this.pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  start(): void {
    if (this.#timer) return;
    const tick = () => void this.run().catch(this.onError);
    this.#timer = setInterval(tick, this.intervalMs);
    this.#timer.unref?.();
    tick();
  }

  /** Stops the timer and waits for a pass in flight. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }
}
