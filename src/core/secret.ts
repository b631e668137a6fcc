/**
 * A value that must never be printed. It stringifies, serializes and inspects as "[secret]";
 * only `reveal()` gives the value, and only the executor and adapters that hand it to an
 * outside system (through env or a request body, never argv) call it.
 */
const REDACTED = "[secret]";

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}

/** Replace every occurrence of each secret's value in `text` with [secret]. */
export function redact(text: string, secrets: readonly Secret[]): string {
  let out = text;
  for (const s of secrets) {
    const v = s.reveal();
    if (v.length >= 4) out = out.split(v).join(REDACTED);
  }
  return out;
}
