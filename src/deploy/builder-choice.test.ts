import { expect, test } from "bun:test";
import type { BuilderName } from "../core/deployment.ts";
import { StepError } from "../core/errors.ts";
import type { ImageBuilder } from "../core/ports/builder.ts";
import { chooseBuilder } from "./builder-choice.ts";

function fake(name: BuilderName, applies: boolean, asked: string[]): ImageBuilder {
  return {
    name,
    async applies(src) {
      asked.push(`${name}:${src}`);
      return applies;
    },
    async build() {
      throw new Error("not here");
    },
  };
}

test("railpack, then dockerfile, then kiln, whatever order they are given in", async () => {
  const asked: string[] = [];
  const chosen = await chooseBuilder([fake("kiln", true, asked), fake("dockerfile", true, asked), fake("railpack", false, asked)], "/src");
  expect(chosen.name).toBe("dockerfile");
  expect(asked).toEqual(["railpack:/src", "dockerfile:/src"]);
});

test("railpack first when it applies", async () => {
  const asked: string[] = [];
  expect((await chooseBuilder([fake("dockerfile", true, asked), fake("railpack", true, asked)], "/s")).name).toBe("railpack");
});

test("the fallback when nothing else applies", async () => {
  const asked: string[] = [];
  expect((await chooseBuilder([fake("railpack", false, asked), fake("dockerfile", false, asked), fake("kiln", true, asked)], "/s")).name).toBe("kiln");
});

test("none applies: a StepError naming the builders tried", async () => {
  const err = await chooseBuilder([fake("dockerfile", false, [])], "/s").catch((e) => e);
  expect(err).toBeInstanceOf(StepError);
  expect(err.message).toContain("tried: dockerfile");
});
