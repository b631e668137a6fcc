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
