import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { hmacHex, providerOf, safeEqual } from "./verify.ts";

describe("verify", () => {
  test("hmacHex is the hex HMAC-SHA256 GitHub documents", () => {
    // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!"
    expect(hmacHex("It's a Secret to Everybody", new TextEncoder().encode("Hello, World!"))).toBe("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    expect(hmacHex("k", new Uint8Array([1, 2]))).toBe(createHmac("sha256", "k").update(Buffer.from([1, 2])).digest("hex"));
  });

  test("safeEqual: equal only when equal, whatever the lengths", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "x")).toBe(false);
  });

  test("providerOf: Gitea/Forgejo before GitLab before GitHub before generic", () => {
    expect(providerOf(new Headers({ "x-gitea-event": "push", "x-github-event": "push" }))).toBe("gitea");
    expect(providerOf(new Headers({ "x-forgejo-event": "push" }))).toBe("gitea");
    expect(providerOf(new Headers({ "x-gitlab-event": "Push Hook" }))).toBe("gitlab");
    expect(providerOf(new Headers({ "x-github-event": "push" }))).toBe("github");
    expect(providerOf(new Headers({ authorization: "Bearer x" }))).toBe("generic");
    expect(providerOf(new Headers({}))).toBeNull();
  });
});
