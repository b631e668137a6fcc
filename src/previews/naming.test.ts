import { describe, expect, test } from "bun:test";
import { isDeploymentName } from "../core/names.ts";
import { NAME_MAX, previewName, prSuffix, refSlug, refSuffix } from "./naming.ts";

const free = () => false;

describe("preview names", () => {
  test("a pull request's preview is <app>-pr-<n>", () => {
    expect(previewName("shop", prSuffix(7), free)).toBe("shop-pr-7");
  });

  test("a long app name is cut so the name stays a valid deployment name of at most 40", () => {
    const parent = "a".repeat(40);
    const name = previewName(parent, prSuffix(12345), free);
    expect(name.length).toBe(NAME_MAX);
    expect(name.endsWith("-pr-12345")).toBe(true);
    expect(isDeploymentName(name)).toBe(true);
  });

  test("the cut never leaves a '-' before the suffix doubled or at the end", () => {
    const parent = `${"a".repeat(29)}-bbbbbbbbbb`; // the cut falls right after the '-'
    const name = previewName(parent, "pr-7", free);
    expect(isDeploymentName(name)).toBe(true);
    expect(name).not.toContain("--");
  });

  test("a name taken by another deployment gets -2, -3…, still within 40", () => {
    const taken = new Set(["shop-pr-7", "shop-pr-7-2"]);
    expect(previewName("shop", "pr-7", (n) => taken.has(n))).toBe("shop-pr-7-3");
    const long = "b".repeat(40);
    const first = previewName(long, "pr-7", free);
    const second = previewName(long, "pr-7", (n) => n === first);
    expect(second).not.toBe(first);
    expect(second.length).toBeLessThanOrEqual(NAME_MAX);
    expect(isDeploymentName(second)).toBe(true);
  });

  test("a ref's slug: lowercase, '-' for anything else, no refs/heads/, at most 24", () => {
    expect(refSlug("feature/Login_v2")).toBe("feature-login-v2");
    expect(refSlug("refs/heads/main")).toBe("main");
    expect(refSlug("--x--")).toBe("x");
    expect(refSlug("a".repeat(60)).length).toBe(24);
    expect(refSlug("___")).toBe("");
  });

  test("a ref with nothing usable gets p<n>", () => {
    expect(refSuffix("___", 3)).toBe("p3");
    expect(refSuffix("dev", 3)).toBe("dev");
    expect(previewName("shop", refSuffix("feature/x", 1), free)).toBe("shop-feature-x");
  });
});
