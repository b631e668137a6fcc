/**
 * A ring of the last `capacity` items: push overwrites the oldest once full, so memory stays
 * bounded whatever runs for how long. items() returns them oldest first.
 */
export class Ring<T> {
  readonly #slots: (T | undefined)[];
  #next = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity ${capacity} (want a positive integer)`);
    this.#slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    this.#slots[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** Oldest first. */
  items(): T[] {
    const out: T[] = [];
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    for (let i = 0; i < this.#size; i++) out.push(this.#slots[(start + i) % this.capacity] as T);
    return out;
  }

  latest(): T | undefined {
    return this.#size === 0 ? undefined : this.#slots[(this.#next - 1 + this.capacity) % this.capacity];
  }
}
