import { describe, expect, test } from "bun:test";
import { jsonErrorPosition, jsonErrorWhere } from "./json-error.ts";

describe("jsonErrorPosition", () => {
  const valid = ['{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"],"b":{}}', " [ ] ", '"s"', "0", '{"a":{"b":[[{}]]}}'];
  test.each(valid)("valid JSON has no error: %s", (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(jsonErrorPosition(text)).toBeNull();
  });

  const invalid: [string, number, number][] = [
    ["root:x:0:0:root:/root:/bin/bash\n", 1, 1],
    ['{\n  "a": oops }', 2, 8],
    ['{"a":1}x', 1, 8],
    ["", 1, 1],
    ['{"a":1,}', 1, 8],
    ['{"a" 1}', 1, 6],
    ["[1,2", 1, 5],
    ['"bad \\q"', 1, 7],
    ["01", 1, 2],
    ["{\n\n  // comment\n}", 3, 3],
  ];
  test.each(invalid)("%j fails at line %d, column %d (and JSON.parse agrees it is invalid)", (text, line, column) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorPosition(text)).toEqual({ line, column });
  });

  test("JSONC allows comments and trailing commas", () => {
    const text = '{\n  // c\n  "a": [1, 2,], /* b */\n  "b": 1,\n}';
    expect(jsonErrorPosition(text, { jsonc: true })).toBeNull();
    expect(jsonErrorPosition('{ /* never closed', { jsonc: true })).toEqual({ line: 1, column: 3 });
  });

  test("deep nesting does not overflow the stack", () => {
    expect(jsonErrorPosition("[".repeat(100_000) + "]".repeat(100_000))).toBeNull();
  });

  test("jsonErrorWhere is the message suffix", () => {
    expect(jsonErrorWhere("{\n x")).toBe(" (line 2, column 2)");
    expect(jsonErrorWhere("{}")).toBe("");
  });
});
