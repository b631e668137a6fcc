import { describe, expect, test } from "bun:test";
import type { AppEnv } from "../core/env.ts";
import { Secret } from "../core/secret.ts";
import { DEFAULT_SETTINGS, type AppSettings } from "../core/settings.ts";
import { mayHaveSecrets, previewEnv, previewSettings } from "./inherit.ts";

const env: AppEnv = {
  PUBLIC_URL: { value: new Secret("https://x"), secret: false, buildTime: false },
  API_KEY: { value: new Secret("k-123"), secret: true, buildTime: false },
  BUILD_FLAG: { value: new Secret("1"), secret: false, buildTime: true },
};

const app = (previews: Partial<AppSettings["previews"]>): AppSettings => ({
  ...DEFAULT_SETTINGS,
  replicas: 3,
  volumes: [{ name: "data", path: "/data" }],
  port: 5050,
  previews: { ...DEFAULT_SETTINGS.previews, enabled: true, ...previews },
});

describe("a preview's env", () => {
  test("non-secret variables always, secret ones not when the app does not allow them", () => {
    const out = previewEnv(env, { secrets: mayHaveSecrets(app({ secrets: false }), false) });
    expect(Object.keys(out).sort()).toEqual(["BUILD_FLAG", "PUBLIC_URL"]);
    expect(out.BUILD_FLAG!.buildTime).toBe(true);
  });

  test("secret ones too when the app allows them", () => {
    const out = previewEnv(env, { secrets: mayHaveSecrets(app({ secrets: true }), false) });
    expect(Object.keys(out).sort()).toEqual(["API_KEY", "BUILD_FLAG", "PUBLIC_URL"]);
    expect(out.API_KEY!.value.reveal()).toBe("k-123");
  });

  test("a fork's preview never gets secrets, even when the app allows them", () => {
    expect(mayHaveSecrets(app({ secrets: true, forks: true }), true)).toBe(false);
    const out = previewEnv(env, { secrets: mayHaveSecrets(app({ secrets: true, forks: true }), true) });
    expect(Object.keys(out)).not.toContain("API_KEY");
  });
});

describe("a preview's settings", () => {
  test("the app's, with one replica, no volumes and no previews of its own", () => {
    const s = previewSettings(app({ secrets: true }));
    expect(s.port).toBe(5050);
    expect(s.replicas).toBe(1);
    expect(s.volumes).toEqual([]);
    expect(s.previews).toEqual(DEFAULT_SETTINGS.previews);
  });

  test("changing the preview's settings leaves the app's alone", () => {
    const parent = app({});
    parent.healthcheck = { path: "/healthz", expectStatus: null, timeoutMs: 1, intervalMs: 1, startPeriodMs: 1 };
    const s = previewSettings(parent);
    s.healthcheck!.path = "/other";
    expect(parent.healthcheck.path).toBe("/healthz");
    expect(parent.volumes.length).toBe(1);
  });
});
