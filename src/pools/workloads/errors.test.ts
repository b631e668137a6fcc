import { describe, expect, test } from "bun:test";
import { KilnError } from "../../core/errors.ts";
import { ProblemList, WorkloadSpecError, closest, formatFieldPath } from "./errors.ts";

describe("WorkloadSpecError", () => {
  test("names the file, the field and the problem; is a bad_request", () => {
    const e = new WorkloadSpecError("workloads/foo.yaml", "pool.max_size", "must be ≥ pool.min_size (2)", "a hint");
    expect(e).toBeInstanceOf(KilnError);
    expect(e.kind).toBe("bad_request");
    expect(e.message).toBe("workloads/foo.yaml: pool.max_size: must be ≥ pool.min_size (2)");
    expect([e.file, e.field, e.problem, e.hint]).toEqual(["workloads/foo.yaml", "pool.max_size", "must be ≥ pool.min_size (2)", "a hint"]);
  });

  test("without a field, names the file only", () => {
    expect(new WorkloadSpecError("a.yaml", null, "is empty").message).toBe("a.yaml: is empty");
  });
});

test("formatFieldPath", () => {
  expect(formatFieldPath(["sync", "mappings", 0, "path"])).toBe("sync.mappings[0].path");
  expect(formatFieldPath([])).toBe("");
  expect(formatFieldPath(["ports", 1])).toBe("ports[1]");
});

test("ProblemList collects errors with formatted paths", () => {
  const p = new ProblemList("f.yaml");
  expect(p.empty).toBe(true);
  p.add(["pool", "min_size"], "bad");
  p.add("id", "worse");
  p.add(null, "whole file");
  expect(p.errors.map((e) => e.message)).toEqual(["f.yaml: pool.min_size: bad", "f.yaml: id: worse", "f.yaml: whole file"]);
});

describe("closest", () => {
  const known = ["id", "name", "image", "environment", "read_only", "max_size", "min_size"];
  test.each([
    ["imgae", "image"],
    ["imag", "image"],
    ["enviroment", "environment"],
    ["readOnly", "read_only"],
    ["max_sise", "max_size"],
    ["MaxSize", "max_size"],
  ])("%p → %p", (word, near) => {
    expect(closest(word, known)).toBe(near);
  });
  test("nothing close → null", () => {
    expect(closest("volumez_and_more", known)).toBeNull();
    expect(closest("foo", known)).toBeNull();
  });
});
