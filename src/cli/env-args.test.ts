import { expect, test } from "bun:test";
import { UsageError } from "./args.ts";
import { parseDotenv, parseEnvNames, parseEnvPairs } from "./env-args.ts";

test("KEY=VALUE pairs: the first '=' splits; empty values are kept", () => {
  expect(parseEnvPairs(["A=1", "B=x=y", "C="], "env set")).toEqual({ A: "1", B: "x=y", C: "" });
});

test("a bad pair is refused without repeating its value", () => {
  for (const bad of ["sk_live_secret", "=sk_live_secret", "1A=sk_live_secret", "A-B=sk_live_secret"]) {
    const err = (() => {
      try {
        parseEnvPairs(["OK=1", bad], "env set");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect(err!.message).not.toContain("sk_live_secret");
    expect(err!.message).toContain("env set");
  }
});

test("names for unset: KEY=VALUE is refused", () => {
  expect(parseEnvNames(["A", "B_2"], "env unset")).toEqual(["A", "B_2"]);
  expect(() => parseEnvNames(["A=1"], "env unset")).toThrow(UsageError);
});

test(".env files: comments, export, quotes, inline comments", () => {
  const text = `# comment\n\nexport A=1\nB = "two words"\nC='single # not a comment'\nD=plain # comment\nE="line\\nbreak"\n`;
  expect(parseDotenv(text)).toEqual({ A: "1", B: "two words", C: "single # not a comment", D: "plain", E: "line\nbreak" });
  expect(() => parseDotenv("A=1\nnot a pair secretvalue\n")).toThrow(".env:2 is not KEY=VALUE");
});
