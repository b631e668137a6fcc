/**
 * How the CLI writes: colour and progress only when stdout is a terminal and NO_COLOR is unset;
 * `--json` output is the API's JSON, one document, no colour.
 */
export interface Output {
  tty: boolean;
  color: boolean;
  out(text: string): void;
  err(text: string): void;
  json(value: unknown): void;
  paint: Paint;
}

type Style = (s: string) => string;
export interface Paint {
  bold: Style;
  dim: Style;
  red: Style;
  green: Style;
  yellow: Style;
  cyan: Style;
}

const ansi = (code: number): Style => (s) => `\x1b[${code}m${s}\x1b[0m`;
const plain: Style = (s) => s;

/** `noColor`: config.ts's loadCliEnv().noColor (NO_COLOR set). */
export function createOutput(noColor: boolean, tty = Boolean(process.stdout.isTTY)): Output {
  const color = tty && !noColor;
  const c = (code: number) => (color ? ansi(code) : plain);
  return {
    tty,
    color,
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    json: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    paint: { bold: c(1), dim: c(2), red: c(31), green: c(32), yellow: c(33), cyan: c(36) },
  };
}

/** Rows as aligned columns; the first row is the header. */
export function table(rows: string[][], paint?: Paint): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row, r) => {
      const line = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ");
      return r === 0 && paint ? paint.bold(line) : line;
    })
    .join("\n");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A one-line progress bar, redrawn in place (call only on a TTY). */
export function progressLine(sent: number, total: number | undefined, width = 30): string {
  if (!total) return `uploading ${formatBytes(sent)}`;
  const ratio = Math.min(1, sent / total);
  const filled = Math.round(ratio * width);
  return `uploading [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${formatBytes(sent)} / ${formatBytes(total)}`;
}

/** "3m ago" from an ISO time. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function statusColor(status: string, paint: Paint): string {
  if (status === "running" || status === "claimed" || status === "ready") return paint.green(status);
  if (status === "failed" || status === "release_failed" || status === "crashlooping") return paint.red(status);
  if (status === "stopped" || status === "released") return paint.dim(status);
  return paint.yellow(status);
}
