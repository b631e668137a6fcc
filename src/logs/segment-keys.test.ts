import { describe, expect, test } from "bun:test";
import { segmentKey, streamDir } from "./segment-keys.ts";

describe("segment keys", () => {
  test("one plain path segment per stream, distinct for distinct streams", () => {
    expect(streamDir("k7x2abcd")).toBe("k7x2abcd");
    expect(streamDir("tenant:echo:acme")).toBe("tenant_3aecho_3aacme");
    expect(streamDir("a_3a")).toBe("a_5f3a");
    expect(streamDir("a:")).not.toBe(streamDir("a_3a"));
    expect(streamDir("../x")).toBe("_2e_2e_2fx");
    expect(segmentKey("tenant:echo:acme", 1, 4096)).toBe("tenant_3aecho_3aacme/000000000001-000000004096.kseg");
  });
});
