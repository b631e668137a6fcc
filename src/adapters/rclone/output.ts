/**
 * rclone's stderr lines, made readable for a deployment log and for error messages. Pure.
 * Lines arrive already redacted by the exec runner (keys travel as Secret env values).
 */

const LEVEL = /^(DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL)\s*:\s*/;
/** "1.2 MiB / 3 MiB, 40%, 1 MiB/s, ETA 2s" — a --stats-one-line progress line. */
const PROGRESS = /^[\d.]+ \S*B \/ [\d.]+ \S*B, /;

/** "NOTICE:     2.8 MiB / 2.8 MiB, 100%, …" → "2.8 MiB / 2.8 MiB, 100%, …"; "ERROR : x: …" → "error: x: …". */
export function cleanLine(line: string): string {
  const text = line.replace(/\s+/g, " ").trim();
  const m = LEVEL.exec(text);
  if (!m) return text;
  const level = m[1] ?? "";
  const rest = text.slice(m[0].length);
  return level === "NOTICE" || level === "INFO" || level === "DEBUG" ? rest : `${level.toLowerCase()}: ${rest}`;
}

export function isProgress(cleaned: string): boolean {
  return PROGRESS.test(cleaned);
}

/** The last few distinct non-progress lines: what went wrong, for an error message. */
export function failureSummary(tail: readonly string[], max = 4): string {
  const picked: string[] = [];
  for (let i = tail.length - 1; i >= 0 && picked.length < max; i--) {
    const line = cleanLine(tail[i] ?? "");
    if (line === "" || isProgress(line) || picked.includes(line)) continue;
    picked.unshift(line);
  }
  return picked.length > 0 ? picked.join("; ") : "rclone printed nothing";
}
