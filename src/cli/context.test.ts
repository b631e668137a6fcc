import { expect, test } from "bun:test";
import { resolve, join } from "node:path";
import { loadCliEnv } from "../config.ts";
import { resolveTarget } from "./context.ts";
import { classifySource, parseEnv } from "./deploy.ts";
import { progressLine } from "./output.ts";
import { UsageError } from "./args.ts";

const noFile = () => undefined;

test("flags win over env, env over the local data dir", () => {
  const env = loadCliEnv({ KILN_URL: "http://env:1", KILN_TOKEN: "env-token" });
  expect(resolveTarget({ url: "http://flag:2", token: "flag-token" }, env, noFile)).toEqual({ url: "http://flag:2", token: "flag-token", tokenFrom: "--token" });
  expect(resolveTarget({}, env, noFile)).toEqual({ url: "http://env:1", token: "env-token", tokenFrom: "KILN_TOKEN" });
});

test("without either, the local Kiln: its api-token file and KILN_API_HOST/PORT", () => {
  const seen: string[] = [];
  const read = (p: string) => (seen.push(p), "file-token");
  const t = resolveTarget({}, loadCliEnv({ KILN_DATA_DIR: "/srv/kiln", KILN_API_HOST: "0.0.0.0", KILN_API_PORT: "4100" }), read);
  expect(t).toEqual({ url: "http://127.0.0.1:4100", token: "file-token", tokenFrom: "/srv/kiln/api-token" });
  expect(resolveTarget({}, loadCliEnv({}), read).url).toBe("http://127.0.0.1:4000");
  expect(seen[1]).toBe(join(resolve("./.kiln"), "api-token"));
});

test("empty variables count as unset", () => {
  const t = resolveTarget({}, loadCliEnv({ KILN_URL: "", KILN_TOKEN: "", KILN_DATA_DIR: "", KILN_API_HOST: "", KILN_API_PORT: "" }), () => "file-token");
  expect(t).toEqual({ url: "http://127.0.0.1:4000", token: "file-token", tokenFrom: join(resolve("./.kiln"), "api-token") });
});

test("no token anywhere is an auth failure that says where to put one", () => {
  expect(() => resolveTarget({}, loadCliEnv({}), noFile)).toThrow("no API token");
});

test("deploy sources: Git URLs, folders, files; anything else is a usage error", async () => {
  expect(await classifySource("https://github.com/a/b.git")).toEqual({ kind: "git", url: "https://github.com/a/b.git" });
  expect(await classifySource("git@github.com:a/b.git")).toEqual({ kind: "git", url: "git@github.com:a/b.git" });
  expect((await classifySource(import.meta.dir)).kind).toBe("folder");
  expect((await classifySource(import.meta.path)).kind).toBe("tarball");
  await expect(classifySource("/no/such/place")).rejects.toBeInstanceOf(UsageError);
});

test("--env pairs", () => {
  expect(parseEnv(["A=1", "B=x=y", "C="])).toEqual({ A: "1", B: "x=y", C: "" });
  expect(() => parseEnv(["=1"])).toThrow(UsageError);
  expect(() => parseEnv(["NOEQ"])).toThrow(UsageError);
});

test("progress line", () => {
  expect(progressLine(512, 1024, 10)).toBe("uploading [#####     ]  50%  512 B / 1.0 KiB");
  expect(progressLine(2048, undefined)).toBe("uploading 2.0 KiB");
});
