import { describe, expect, test } from "bun:test";
import { StepError } from "../../core/errors.ts";
import { DETECTED, joinCommands, parseRailpackConfig } from "./railpack-config.ts";

describe("parseRailpackConfig", () => {
  test("reads install/build commands and deploy.startCommand, with comments and trailing commas", () => {
    const cfg = parseRailpackConfig(`{
      // a comment
      "steps": {
        "install": { "commands": ["npm install"] },
        "build": { "inputs": [{ "step": "install" }], "commands": ["...", { "cmd": "./b.sh", "customName": "b" },], },
      },
      "deploy": { "startCommand": "  node dist/index.js  " },
    }`);
    expect(cfg.install).toEqual(["npm install"]);
    expect(cfg.build).toEqual([DETECTED, "./b.sh"]);
    expect(cfg.start).toBe("node dist/index.js");
    expect(cfg.warnings).toEqual([]);
  });

  test("PATH:/COPY: strings, non-command objects and other steps are skipped with warnings", () => {
    const cfg = parseRailpackConfig(
      JSON.stringify({
        steps: {
          build: { commands: ["PATH:/x/bin", "COPY:a b", { path: "node_modules/.bin" }, "make"] },
          extra: { commands: ["x"] },
        },
      }),
    );
    expect(cfg.build).toEqual(["make"]);
    expect(cfg.warnings.length).toBe(4);
    expect(cfg.start).toBeUndefined();
    expect(cfg.install).toBeUndefined();
  });

  test("no steps or deploy: nothing", () => {
    expect(parseRailpackConfig('{"$schema": "https://schema.railpack.com"}')).toEqual({ warnings: [] });
  });

  test("invalid: StepError", () => {
    expect(() => parseRailpackConfig("{ nope")).toThrow(StepError);
    expect(() => parseRailpackConfig("[1]")).toThrow("railpack.json must hold a JSON object");
  });
});

test("joinCommands puts the detected command where ... is", () => {
  expect(joinCommands([DETECTED, "b"], "a")).toBe("a && b");
  expect(joinCommands(["b", DETECTED], "a")).toBe("b && a");
  expect(joinCommands([DETECTED, "b"], undefined)).toBe("b");
  expect(joinCommands([DETECTED], undefined)).toBeUndefined();
  expect(joinCommands([], "a")).toBeUndefined();
});
