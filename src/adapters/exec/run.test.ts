import { afterEach, expect, test } from "bun:test";
import { Secret } from "../../core/secret.ts";
import { run } from "./run.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";

/** The child's environment as `env` prints it, one `KEY=value` per line. */
async function childEnv(...args: Parameters<typeof run>): Promise<string[]> {
  const lines: string[] = [];
  const res = await run(args[0], { ...args[1], onLine: (_s, l) => lines.push(l) });
  expect(res.code).toBe(0);
  return lines.sort();
}

afterEach(() => {
  delete process.env.KILN_TEST_LEAK;
});

test("a child sees its base env and nothing of Kiln's own environment", async () => {
  process.env.KILN_TEST_LEAK = "leaked";
  expect(await childEnv({ argv: ["env"] }, { baseEnv: { PATH } })).toEqual([`PATH=${PATH}`]);
});

test("the command's env is added to the base env, unsetEnv removes from it", async () => {
  const lines = await childEnv({ argv: ["env"], env: { A: "1", HOME: "/cmd" }, unsetEnv: ["LANG"] }, { baseEnv: { PATH, HOME: "/base", LANG: "C.UTF-8" } });
  expect(lines).toEqual(["A=1", "HOME=/cmd", `PATH=${PATH}`]);
});

test("without a base env the child starts from an empty environment", async () => {
  process.env.KILN_TEST_LEAK = "leaked";
  expect(await childEnv({ argv: ["env"], env: { ONLY: "this" } })).toEqual(["ONLY=this"]);
});

test("a secret reaches the child through env and is redacted from its output", async () => {
  const lines = await childEnv({ argv: ["env"], env: { TOKEN: new Secret("s3cr3t-value") } }, { baseEnv: { PATH } });
  expect(lines).toEqual([`PATH=${PATH}`, "TOKEN=[secret]"]);
});
