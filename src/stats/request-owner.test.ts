import { describe, expect, test } from "bun:test";
import { hostOnly, ownerKey, ownerTable, resolveOwner } from "./request-owner.ts";

const table = ownerTable("localhost", [{ id: "d1", name: "shop" }], [{ host: "Shop.Example.com", deploymentId: "d1" }]);

describe("request owner", () => {
  test("by the app's host (port and case ignored), its own domain, or /d/<id> on the public host", () => {
    expect(resolveOwner(ownerKey("shop.localhost:8080", "/x", "localhost"), table)).toBe("d1");
    expect(resolveOwner(ownerKey("SHOP.localhost", "/", "localhost"), table)).toBe("d1");
    expect(resolveOwner(ownerKey("shop.example.com", "/", "localhost"), table)).toBe("d1");
    expect(resolveOwner(ownerKey("localhost:8080", "/d/d1/a?b", "localhost"), table)).toBe("d1");
    expect(resolveOwner(ownerKey("localhost", "/d/d1", "localhost"), table)).toBe("d1");
  });

  test("nobody's: other hosts, other paths, unknown ids, /d/<id> under another host", () => {
    expect(resolveOwner(ownerKey("other.localhost", "/", "localhost"), table)).toBeNull();
    expect(resolveOwner(ownerKey("localhost", "/", "localhost"), table)).toBeNull();
    expect(resolveOwner(ownerKey("localhost", "/d/d2/", "localhost"), table)).toBeNull();
    expect(resolveOwner(ownerKey("localhost", "/d/d1x", "localhost"), table)).toBeNull();
    expect(resolveOwner(ownerKey("other.localhost", "/d/d1", "localhost"), table)).toBeNull();
  });

  test("hostOnly", () => {
    expect(hostOnly("[::1]:8080")).toBe("::1");
    expect(hostOnly("::1")).toBe("::1");
    expect(hostOnly("A.b:1")).toBe("a.b");
  });
});
