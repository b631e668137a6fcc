/**
 * Prometheus text exposition format 0.0.4, the pure part: escaping, numbers, one sample line.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

/** HELP text: backslash and newline escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A label value: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Go's float formatting as Prometheus reads it: +Inf, -Inf, NaN, else the shortest decimal. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** `name{a="1",b="2"} value`; no braces when there are no labels. Labels in the order given. */
export function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return `${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`;
}

export function headerLines(name: string, help: string, type: "counter" | "gauge" | "histogram"): string[] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Metric and label names are code, not input: a bad one is a bug, thrown at definition. */
export function checkNames(name: string, labelNames: readonly string[]): void {
  if (!NAME.test(name)) throw new Error(`metrics: invalid metric name ${JSON.stringify(name)}`);
  for (const l of labelNames) {
    if (!LABEL.test(l) || l.startsWith("__") || l === "le") throw new Error(`metrics: invalid label name ${JSON.stringify(l)} on ${name}`);
  }
}
