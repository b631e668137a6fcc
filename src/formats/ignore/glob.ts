/**
 * The one glob → RegExp compiler behind both ignore dialects, and the predicate type they share.
 * Whatever a user wrote, the regex is built from fixed pieces and escaped characters (every
 * character that is not a letter or digit becomes a `\u{…}` escape): no user text reaches
 * `new RegExp` as syntax. `*`, `?` and `[…]` never match `/`.
 *
 * - gitignore (git's wildmatch): `**` is special only as a whole segment (first, inner or last:
 *   any directories), elsewhere it is `*`; a class negates with `!` or `^`, takes `]` first as a member,
 *   knows `[:alpha:]` and friends. Git never rejects a pattern, and neither does this: a class
 *   left open, an unknown `[:name:]` or a trailing `\` make the pattern match nothing, as git
 *   does; so does an out-of-order range (`[z-a]`), where git would still match its first letter.
 * - dockerignore (Docker's patternmatcher over Go's filepath.Match syntax): any `**` crosses
 *   segments (at the end: everything below), a class negates with `^`. What Docker rejects — a
 *   class left open or empty, `]` or `-` unescaped where a member belongs, an out-of-order range,
 *   a trailing `\` — throws a GlobSyntaxError, which the parser reports with file and line.
 */

/** True leaves the path out ('/'-separated, relative to the root); for a directory, its subtree too. */
export type IgnorePredicate = (relPath: string, info: { isDirectory: boolean }) => boolean;

export type GlobDialect = "gitignore" | "dockerignore";

export class GlobSyntaxError extends Error {}

/** A regex piece that never matches. */
const NEVER = "(?!)";

/** `^<glob>$` as a RegExp; with `anyDepth` it also matches below any directories. */
export function globToRegExp(glob: string, dialect: GlobDialect, opts: { anyDepth?: boolean } = {}): RegExp {
  const source = `^${opts.anyDepth ? "(?:.*/)?" : ""}${globSource(glob, dialect)}$`;
  try {
    return new RegExp(source, "u");
  } catch (err) {
    throw new GlobSyntaxError(`it cannot be compiled (${err instanceof Error ? err.message : String(err)})`);
  }
}

function globSource(glob: string, dialect: GlobDialect): string {
  const cps = Array.from(glob); // code points, so `?` and ranges see whole characters
  let out = "";
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i]!;
    if (ch === "*") {
      const stars = dialect === "gitignore" ? gitStars(cps, i) : dockerStars(cps, i);
      out += stars.source;
      i = stars.end;
    } else if (ch === "?") {
      out += "[^/]";
    } else if (ch === "[") {
      const cls = dialect === "gitignore" ? gitClass(cps, i) : goClass(cps, i);
      if (cls === null) return NEVER;
      out += cls.source;
      i = cls.end;
    } else if (ch === "\\") {
      const next = cps[++i];
      if (next === undefined) {
        if (dialect === "dockerignore") throw new GlobSyntaxError("a trailing \\ escapes nothing");
        return NEVER;
      }
      out += literal(next);
    } else {
      out += literal(ch);
    }
  }
  return out;
}

interface Piece {
  source: string;
  /** Index of the piece's last code point. */
  end: number;
}

function gitStars(cps: string[], i: number): Piece {
  let j = i;
  while (cps[j] === "*") j++;
  const wholeSegment = j - i >= 2 && (i === 0 || cps[i - 1] === "/") && (j === cps.length || cps[j] === "/");
  if (!wholeSegment) return { source: "[^/]*", end: j - 1 };
  if (j === cps.length) return { source: ".*", end: j - 1 }; // "x/**": everything inside
  return { source: "(?:.*/)?", end: j }; // "**/x", "a/**/b": zero or more directories
}

function dockerStars(cps: string[], i: number): Piece {
  if (cps[i + 1] !== "*") return { source: "[^/]*", end: i };
  let j = i + 2;
  if (cps[j] === "/") j++;
  return { source: j >= cps.length ? ".*" : "(?:.*/)?", end: j - 1 };
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: "a-zA-Z0-9",
  alpha: "a-zA-Z",
  blank: "\\u{20}\\u{9}",
  cntrl: "\\u{0}-\\u{1f}\\u{7f}",
  digit: "0-9",
  graph: "\\u{21}-\\u{7e}",
  lower: "a-z",
  print: "\\u{20}-\\u{7e}",
  punct: "\\u{21}-\\u{2f}\\u{3a}-\\u{40}\\u{5b}-\\u{60}\\u{7b}-\\u{7e}",
  space: "\\u{20}\\u{9}-\\u{d}",
  upper: "A-Z",
  xdigit: "0-9A-Fa-f",
};

/** A `[…]` class as git's wildmatch reads it; null when git would match nothing at all. */
function gitClass(cps: string[], start: number): Piece | null {
  let j = start + 1;
  const negated = cps[j] === "!" || cps[j] === "^";
  if (negated) j++;
  const members: string[] = [];
  let prev: string | undefined; // the member a following "-" makes a range from
  for (let first = true; ; first = false, j++) {
    const ch = cps[j];
    if (ch === undefined) return null;
    if (ch === "]" && !first) break;
    if (ch === "\\") {
      const esc = cps[++j];
      if (esc === undefined) return null;
      members.push(literal(esc));
      prev = esc;
    } else if (ch === "-" && prev !== undefined && cps[j + 1] !== undefined && cps[j + 1] !== "]") {
      let hi = cps[++j]!;
      if (hi === "\\") {
        const esc = cps[++j];
        if (esc === undefined) return null;
        hi = esc;
      }
      if (prev.codePointAt(0)! > hi.codePointAt(0)!) return null;
      members.push(`${literal(prev)}-${literal(hi)}`);
      prev = undefined;
    } else if (ch === "[" && cps[j + 1] === ":") {
      const close = cps.indexOf("]", j + 2);
      if (close < 0) return null;
      if (close - 1 < j + 2 || cps[close - 1] !== ":") {
        members.push(literal("[")); // no ":]": a plain "["
        prev = "[";
        continue;
      }
      const named = POSIX_CLASSES[cps.slice(j + 2, close - 1).join("")];
      if (named === undefined) return null;
      members.push(named);
      prev = undefined;
      j = close;
    } else {
      members.push(literal(ch));
      prev = ch;
    }
  }
  return { source: classSource(members, negated), end: j };
}

/** A `[…]` class with Go's filepath.Match syntax; what Go or Docker rejects throws. */
function goClass(cps: string[], start: number): Piece {
  let j = start + 1;
  const negated = cps[j] === "^";
  if (negated) j++;
  const members: string[] = [];
  for (let n = 0; cps[j] !== "]" || n === 0; n++) {
    const lo = goMember(cps, j);
    let hi = lo;
    j = lo.next;
    if (cps[j] === "-") {
      hi = goMember(cps, j + 1);
      j = hi.next;
    }
    if (lo.ch.codePointAt(0)! > hi.ch.codePointAt(0)!) throw new GlobSyntaxError(`the range ${lo.ch}-${hi.ch} is out of order`);
    members.push(lo === hi ? literal(lo.ch) : `${literal(lo.ch)}-${literal(hi.ch)}`);
  }
  return { source: classSource(members, negated), end: j };
}

function goMember(cps: string[], j: number): { ch: string; next: number } {
  let ch = cps[j];
  if (ch === "]" || ch === "-") throw new GlobSyntaxError(`"${ch}" must be escaped (\\${ch}) where a class member is expected`);
  if (ch === "\\") ch = cps[++j];
  if (ch === undefined || cps[j + 1] === undefined) throw new GlobSyntaxError("a [ is never closed");
  return { ch, next: j + 1 };
}

function classSource(members: string[], negated: boolean): string {
  if (negated) return `[^/${members.join("")}]`;
  return members.length === 0 ? NEVER : `(?!/)[${members.join("")}]`;
}

/** One character, matched as itself. */
function literal(ch: string): string {
  return /^[A-Za-z0-9]$/.test(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`;
}
