import { expect, test } from "bun:test";
import { WorkloadSpecError } from "./errors.ts";
import { locateYamlError, parseYaml } from "./yaml.ts";

const syntaxError = (text: string) => {
  try {
    parseYaml(text, "workloads/x.yaml");
  } catch (e) {
    if (e instanceof WorkloadSpecError) return e;
  }
  throw new Error("expected a syntax error");
};

test("parses a mapping", () => {
  expect(parseYaml("a: 1\nb: [x, y]\n", "f.yaml")).toEqual({ a: 1, b: ["x", "y"] });
});

test("a syntax error names the file and the line", () => {
  const e = syntaxError("id: a\nimage: b\nports: [8080\npool:\n  min_size: 1\n");
  expect(e.message).toMatch(/^workloads\/x\.yaml: line \d+: YAML syntax error: /);
  expect(e.field).toBeNull();
  expect(syntaxError("id: a\nimage: b\n  bad: indent\nname: x\n").message).toStartWith("workloads/x.yaml: line 3: YAML syntax error");
  expect(syntaxError("id: a\nenv:\n\t- tab\n").message).toContain("line 3");
});

test("a multi-line flow list before the error does not mislead the line", () => {
  expect(locateYamlError("a: [1,\n  2]\nb: 1\n  c: 2\n")).toBe(4);
});

test("several documents in one file are refused", () => {
  expect(syntaxError("id: a\n---\nid: b\n").message).toContain("several YAML documents");
});

/** `levels` anchors, each a list of `width` aliases of the one before: width^(levels-1) values once expanded. */
const aliasBomb = (levels: number, width: number) => {
  let text = 'a0: &a0 "lol"\n';
  for (let i = 1; i < levels; i++) text += `a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(", ")}]\n`;
  return text;
};

test("an alias bomb is refused before anything walks its expansion", () => {
  for (const [levels, width] of [[7, 9], [20, 2], [9, 9], [30, 2]] as const) {
    const e = syntaxError(aliasBomb(levels, width));
    expect(e.message).toBe("workloads/x.yaml: expands to more than 100000 values or 4 MiB of text once its aliases (*name) are expanded");
    expect(e.hint).toBe("write the values out, or use fewer nested aliases");
  }
});

test("a long string repeated through aliases counts its expanded length", () => {
  const text = `s: &s "${"x".repeat(100_000)}"\nl: [${Array(50).fill("*s").join(", ")}]\n`;
  expect(syntaxError(text).message).toContain("4 MiB of text");
});

test("a few aliases are fine", () => {
  expect(parseYaml(aliasBomb(3, 3), "f.yaml")).toEqual({ a0: "lol", a1: ["lol", "lol", "lol"], a2: [["lol", "lol", "lol"], ["lol", "lol", "lol"], ["lol", "lol", "lol"]] });
});
