import { describe, expect, test } from "bun:test";
import { KilnError } from "../core/errors.ts";
import { classifyName, normalizeHost } from "./host-rules.ts";

const ctx = { publicHost: "apps.example.com", apiHost: "kiln.example.com" };

describe("normalizeHost", () => {
  test("lowercases and drops a trailing dot", () => {
    expect(normalizeHost("Shop.Example.ORG.", ctx)).toBe("shop.example.org");
    expect(normalizeHost(" www.shop.example.org ", ctx)).toBe("www.shop.example.org");
  });

  test("refuses what is not the user's own domain, with a hint", () => {
    for (const bad of ["1.2.3.4", "::1", "a b", "*.example.org", "-x.example.org", "single", "example.123", "apps.example.com", "kiln.example.com", "web.apps.example.com", "t1.w1.apps.example.com", "x".repeat(250) + ".org", ""]) {
      let err: unknown;
      try {
        normalizeHost(bad, ctx);
      } catch (e) {
        err = e;
      }
      expect({ bad, kind: (err as KilnError)?.kind }).toEqual({ bad, kind: "bad_request" });
      expect((err as KilnError).hint).toBeTruthy();
    }
  });
});

describe("classifyName (the ask check)", () => {
  test("the public host, an app's host, a tenant's host, anything else", () => {
    expect(classifyName("apps.example.com", "apps.example.com")).toEqual({ kind: "public" });
    expect(classifyName("Web.Apps.Example.com", "apps.example.com")).toEqual({ kind: "app", name: "web" });
    expect(classifyName("t1.w1.apps.example.com", "apps.example.com")).toEqual({ kind: "tenant", tenantId: "t1", workloadId: "w1" });
    expect(classifyName("a.b.c.apps.example.com", "apps.example.com")).toEqual({ kind: "other", host: "a.b.c.apps.example.com" });
    expect(classifyName("shop.example.org.", "apps.example.com")).toEqual({ kind: "other", host: "shop.example.org" });
    expect(classifyName("evilapps.example.com", "apps.example.com")).toEqual({ kind: "other", host: "evilapps.example.com" });
  });
});
