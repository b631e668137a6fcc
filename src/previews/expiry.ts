/**
 * Which previews go (pure): those older than the app's previews.ttlHours, then, past
 * previews.max, the oldest of the rest. Each with why, for the app's log.
 */
import type { PreviewSettings } from "../core/settings.ts";

export interface AgedPreview {
  id: string;
  name: string;
  createdAt: number;
}

export interface Expired {
  id: string;
  name: string;
  why: string;
}

const HOUR = 3_600_000;

export function expiredPreviews(previews: readonly AgedPreview[], rules: Pick<PreviewSettings, "ttlHours" | "max">, now: number): Expired[] {
  const out: Expired[] = [];
  const kept: AgedPreview[] = [];
  for (const p of previews) {
    if (now - p.createdAt > rules.ttlHours * HOUR) out.push({ id: p.id, name: p.name, why: `older than previews.ttl (${rules.ttlHours} h)` });
    else kept.push(p);
  }
  const newestFirst = [...kept].sort((a, b) => b.createdAt - a.createdAt || a.name.localeCompare(b.name));
  for (const p of newestFirst.slice(rules.max)) out.push({ id: p.id, name: p.name, why: `more than previews.max (${rules.max}): the oldest goes` });
  return out;
}
