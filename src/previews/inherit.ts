/**
 * What a preview takes from its app (pure): its settings, made safe to run beside it, and its env,
 * filtered. A preview never mounts the app's volumes (its data), runs one replica, and has no
 * previews of its own. It gets the app's non-secret variables always, its secret ones only when
 * the app allows it (previews.secrets) and never for a pull request from a fork.
 */
import type { AppEnv } from "../core/env.ts";
import { DEFAULT_SETTINGS, type AppSettings } from "../core/settings.ts";

export function previewSettings(app: AppSettings): AppSettings {
  return { ...structuredClone(app), replicas: 1, volumes: [], previews: { ...DEFAULT_SETTINGS.previews } };
}

/** Whether a preview may see the app's secret variables. */
export const mayHaveSecrets = (app: AppSettings, fork: boolean): boolean => app.previews.secrets && !fork;

export function previewEnv(app: AppEnv, opts: { secrets: boolean }): AppEnv {
  const out: AppEnv = {};
  for (const [k, e] of Object.entries(app)) if (!e.secret || opts.secrets) out[k] = { ...e };
  return out;
}
