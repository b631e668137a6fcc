/**
 * Where a JSON (or JSONC: comments and trailing commas) text first goes wrong, as a line and
 * column, so a parse error can point at the spot without quoting the file — JSON.parse's own
 * messages quote the offending token, and a file's contents never go into an error. Pure.
 *
 *   jsonErrorPosition('{\n  "a": oops }')  // → { line: 2, column: 8 }
 *   `package.json is not valid JSON${jsonErrorWhere(text)}`  // "… (line 2, column 8)"
 */

export interface TextPosition {
  line: number;
  column: number;
}

class Stop {
  constructor(readonly at: number) {}
}

/** The 1-based line and column of the first syntax error, or null when the text is valid. */
export function jsonErrorPosition(text: string, opts: { jsonc?: boolean } = {}): TextPosition | null {
  try {
    scan(text, opts.jsonc ?? false);
    return null;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return positionOf(text, err.at);
  }
}

/** " (line N, column M)" for a parse error's message, or "" when no position is found. */
export function jsonErrorWhere(text: string, opts: { jsonc?: boolean } = {}): string {
  const pos = jsonErrorPosition(text, opts);
  return pos ? ` (line ${pos.line}, column ${pos.column})` : "";
}

export function positionOf(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function scan(text: string, jsonc: boolean): void {
  let i = 0;
  const stack: ("{" | "[")[] = [];
  const fail = (at = i): never => {
    throw new Stop(at);
  };
  const ws = () => {
    for (;;) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
      else if (jsonc && c === "/" && text[i + 1] === "/") {
        while (i < text.length && text[i] !== "\n") i++;
      } else if (jsonc && c === "/" && text[i + 1] === "*") {
        const end = text.indexOf("*/", i + 2);
        if (end < 0) fail();
        i = end + 2;
      } else return;
    }
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail(i + 1);
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(i + 1);
      } else i++;
    }
  };
  const key = () => {
    ws();
    string();
    ws();
    if (text[i] !== ":") fail();
    i++;
  };
  const scalar = () => {
    const c = text[i];
    if (c === '"') return string();
    for (const word of ["true", "false", "null"]) if (text.startsWith(word, i)) return void (i += word.length);
    const found = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 1000));
    if (!found) fail();
    i += found![0].length;
  };
  const closer = (open: "{" | "[") => (open === "{" ? "}" : "]");

  for (;;) {
    // a value is expected here
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      i++;
      ws();
      if (text[i] === closer(c)) i++;
      else {
        stack.push(c);
        if (c === "{") key();
        continue;
      }
    } else scalar();
    // after a value: close containers, or a comma and the next value
    for (;;) {
      ws();
      const top = stack.at(-1);
      if (top === undefined) {
        if (i !== text.length) fail();
        return;
      }
      if (text[i] === closer(top)) {
        i++;
        stack.pop();
        continue;
      }
      if (text[i] !== ",") fail();
      i++;
      ws();
      if (jsonc && text[i] === closer(top)) continue; // a trailing comma; the closer is taken next turn
      if (top === "{") key();
      break;
    }
  }
}
