/** Shaping published text into log lines: one line per newline, each capped at 8 KiB of UTF-8. */

export const MAX_LINE_BYTES = 8 * 1024;
const TRUNCATED = " …[line truncated]";
const TRUNCATED_BYTES = new TextEncoder().encode(TRUNCATED).length;
const encoder = new TextEncoder();

/**
 * Splits on "\n" or "\r\n". One trailing newline ends the last line rather than starting an
 * empty one, so "a\nb\n" is ["a", "b"]; "" is one empty line.
 */
export function splitLines(text: string): string[] {
  if (text.indexOf("\n") < 0) return [text]; // most published text is one line already (ingest's are)
  const body = text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
  return body.split(/\r?\n/);
}

/** Cuts a line to at most `maxBytes` of UTF-8 (never inside a character), marking the cut. */
export function capLine(line: string, maxBytes = MAX_LINE_BYTES): string {
  if (line.length * 3 <= maxBytes) return line; // no UTF-16 unit takes more than 3 bytes
  if (Buffer.byteLength(line, "utf8") <= maxBytes) return line;
  const { read } = encoder.encodeInto(line, new Uint8Array(Math.max(0, maxBytes - TRUNCATED_BYTES)));
  return line.slice(0, read) + TRUNCATED;
}
