import { describe, expect, test } from "bun:test";
import { bunMajorOf, nodeMajorOf, nodeMajorSatisfies, officialBunTag, officialNodeTag, readNodeRange, versionWarning } from "./runtime-versions.ts";

describe("readNodeRange", () => {
  test("the majors to try: satisfying LTS lines newest first, then other majors the range names", () => {
    const majors = (text: string) => readNodeRange(text)?.majors;
    expect(majors(">=18")).toEqual([26, 24, 22, 20, 18]);
    expect(majors("^20")).toEqual([20]);
    expect(majors("20.11.1")).toEqual([20]);
    expect(majors("v20.1")).toEqual([20]);
    expect(majors("^20 || ^22")).toEqual([22, 20]);
    expect(majors("18 - 20")).toEqual([20, 18]);
    expect(majors(">=25")).toEqual([26, 25]);
    expect(majors("^23")).toEqual([23]);
    expect(majors("<4")).toEqual([]);
  });

  test("nvm's aliases", () => {
    expect(readNodeRange("lts/*")?.semver).toBe("26");
    expect(readNodeRange("lts/-1")?.semver).toBe("24");
    expect(readNodeRange("lts/Iron")?.semver).toBe("20");
    expect(readNodeRange("node")?.semver).toBe("*");
    expect(readNodeRange("latest")?.majors[0]).toBe(26);
  });

  test("what is not a version: null", () => {
    for (const text of ["banana", "system", "lts/unknown", "lts/-9", "", "iojs"]) expect(readNodeRange(text)).toBeNull();
  });
});

test("nodeMajorSatisfies: some release of the major, including one the range itself names", () => {
  const range = (text: string) => readNodeRange(text)!;
  expect(nodeMajorSatisfies(range(">=18"), 21)).toBe(true);
  expect(nodeMajorSatisfies(range("20.x"), 20)).toBe(true);
  expect(nodeMajorSatisfies(range(">=20.11"), 20)).toBe(true);
  expect(nodeMajorSatisfies(range(">=20.11 <20.12"), 20)).toBe(true);
  expect(nodeMajorSatisfies(range("^18 || ^22"), 20)).toBe(false);
  expect(nodeMajorSatisfies(range("22"), 20)).toBe(false);
  expect(nodeMajorSatisfies(range("lts/*"), 20)).toBe(false);
});

test("official tags and majors", () => {
  expect(officialNodeTag(22)).toBe("node:22-bookworm-slim");
  expect(nodeMajorOf("kiln/node-runtime:20-host")).toBe(20);
  expect(nodeMajorOf("node:22-bookworm-slim")).toBe(22);
  expect(nodeMajorOf("node:18.20.1")).toBe(18);
  expect(nodeMajorOf("registry:5000/node")).toBeUndefined();
  expect(nodeMajorOf("node:lts")).toBeUndefined();
  expect(officialBunTag()).toBe("oven/bun:1");
  expect(officialBunTag("1.2.3")).toBe("oven/bun:1.2.3");
  expect(officialBunTag("v1.2.3")).toBe("oven/bun:1");
  expect(bunMajorOf("1.2.3")).toBe(1);
  expect(bunMajorOf("v2.0.0")).toBe(2);
  expect(bunMajorOf("canary")).toBeUndefined();
});

test("versionWarning: one shape for every runtime", () => {
  expect(versionWarning({ from: ".nvmrc", runtime: "Node.js", asked: "^18", missing: ["node:18"], using: "the host's Node.js 20" })).toBe(
    ".nvmrc asks for Node.js ^18 but no node:18 image is available (no registry answered); building with the host's Node.js 20",
  );
  expect(versionWarning({ runtime: "Node.js", asked: ">=22", missing: ["node:26", "node:24", "node:22"], using: "x" })).toBe(
    "the app asks for Node.js >=22 but no node:26, node:24 or node:22 image is available (no registry answered); building with x",
  );
  expect(versionWarning({ from: "engines.node", runtime: "Node.js", asked: "<4", missing: [], using: "x" })).toBe(
    "engines.node asks for Node.js <4 but Kiln knows no Node.js image that satisfies it; building with x",
  );
});
