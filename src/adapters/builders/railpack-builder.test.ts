import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { StepError } from "../../core/errors.ts";
import type { BuildInput } from "../../core/ports/builder.ts";
import type { ImageBuildRequest } from "../../core/ports/runtime.ts";
import { Secret } from "../../core/secret.ts";
import type { Command, RunResult } from "../exec/run.ts";
import { readTarEntries } from "../../formats/tar/reader.ts";
import { RailpackBuilder, type RailpackBuilderOptions } from "./railpack-builder.ts";

const ok: RunResult = { code: 0, tail: [], timedOut: false };

function setup(over: Partial<RailpackBuilderOptions> = {}, results: Record<string, RunResult> = {}) {
  const commands: Command[] = [];
  const builds: ImageBuildRequest[] = [];
  const removed: string[] = [];
  const loaded: string[] = [];
  const opts: RailpackBuilderOptions = {
    runtime: {
      async buildImage(req) {
        builds.push(req);
        return { imageId: "sha256:x" };
      },
      async removeImage(ref) {
        removed.push(ref);
      },
    },
    loadImage: async (tar) => {
      loaded.push(await new Response(tar).text());
    },
    buildkitHost: "tcp://127.0.0.1:1234",
    which: (bin) => `/usr/bin/${bin}`,
    exec: async (cmd, runOpts) => {
      commands.push(cmd);
      const sub = cmd.argv[1] === "prepare" ? "prepare" : cmd.argv.includes("build") ? "build" : "probe";
      if (sub === "build") {
        const out = cmd.argv[cmd.argv.indexOf("--output") + 1]!;
        writeFileSync(/dest=(.*)$/.exec(out)![1]!, "IMAGE-TAR");
      }
      runOpts?.onLine?.("stdout", `${sub} output`);
      return results[sub] ?? ok;
    },
    ...over,
  };
  return { builder: new RailpackBuilder(opts), commands, builds, removed, loaded };
}

function input(over: Partial<BuildInput> = {}): BuildInput & { lines: string[] } {
  const lines: string[] = [];
  return {
    deploymentId: "dep1",
    buildId: "b7",
    srcDir: "/src/app",
    tag: "kiln/app-z:b7",
    labels: { "kiln.managed": "true", "kiln.deployment": "dep1" },
    secrets: {},
    log: (_s, t) => lines.push(t),
    lines,
    ...over,
  };
}

describe("applies", () => {
  test("false without railpack, buildctl, a BuildKit address or an image loader", async () => {
    expect(await setup({ which: (b) => (b === "railpack" ? null : "/x") }).builder.applies("/s")).toBe(false);
    expect(await setup({ which: (b) => (b === "buildctl" ? null : "/x") }).builder.applies("/s")).toBe(false);
    expect(await setup({ buildkitHost: undefined }).builder.applies("/s")).toBe(false);
    expect(await setup({ loadImage: undefined }).builder.applies("/s")).toBe(false);
  });

  test("true when the daemon answers the probe; the answer is remembered", async () => {
    const { builder, commands } = setup();
    expect(await builder.applies("/s")).toBe(true);
    expect(await builder.applies("/s")).toBe(true);
    expect(commands.map((c) => c.argv)).toEqual([["buildctl", "--addr", "tcp://127.0.0.1:1234", "debug", "workers"]]);
  });

  test("false when the daemon does not answer", async () => {
    expect(await setup({}, { probe: { code: 1, tail: ["connection refused"], timedOut: false } }).builder.applies("/s")).toBe(false);
  });

  test("every command starts from the configured base environment", async () => {
    const seen: unknown[] = [];
    const base = { PATH: "/usr/bin", HOME: "/root" };
    const { builder } = setup({ baseEnv: base, exec: async (_cmd, runOpts) => (seen.push(runOpts?.baseEnv), { code: 0, tail: [], timedOut: false }) });
    expect(await builder.applies("/s")).toBe(true);
    expect(seen).toEqual([base]);
  });
});

describe("build", () => {
  test("prepare, buildctl, load, relabel via FROM, then clean up", async () => {
    const { builder, commands, builds, removed, loaded } = setup();
    const secret = new Secret("very-secret-value");
    const inp = input({ secrets: { API_TOKEN: secret } });
    const out = await builder.build(inp);
    expect(out).toEqual({ image: "kiln/app-z:b7", plan: "detected by Railpack (its plan is in the build log)" });

    const [prepare, build] = commands;
    expect(prepare!.argv.slice(0, 3)).toEqual(["railpack", "prepare", "/src/app"]);
    expect(prepare!.argv).toContain("API_TOKEN");
    expect(prepare!.env?.API_TOKEN).toBe(secret);
    expect(build!.argv).toContain("build-arg:cache-key=dep1");
    expect(build!.argv).toContain("id=API_TOKEN,env=API_TOKEN");
    expect(build!.env?.API_TOKEN).toBe(secret);
    for (const c of commands) expect(c.argv.join(" ")).not.toContain("very-secret-value");
    const workDir = build!.argv[build!.argv.indexOf("--local") + 3]!.replace(/^dockerfile=/, "");

    expect(loaded).toEqual(["IMAGE-TAR"]);
    const relabel = builds[0]!;
    expect(relabel.tag).toBe("kiln/app-z:b7");
    expect(relabel.labels).toEqual(inp.labels);
    const entries = await readTarEntries(relabel.context as Uint8Array);
    expect(new TextDecoder().decode(entries[0]!.data)).toBe("FROM kiln/railpack-load:b7\n");
    expect(removed).toEqual(["kiln/railpack-load:b7"]);
    expect(existsSync(workDir)).toBe(false);
    expect(inp.lines).toContain("prepare output");
    expect(inp.lines).toContain("build output");
  });

  test("a failing prepare is a StepError with its last lines; nothing is loaded; the work dir goes", async () => {
    const { builder, commands, loaded } = setup({}, { prepare: { code: 1, tail: ["x", "No start command found"], timedOut: false } });
    const err = await builder.build(input()).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toContain("railpack prepare failed (exit 1)");
    expect(err.message).toContain("No start command found");
    expect(commands.length).toBe(1);
    expect(loaded).toEqual([]);
    const planOut = commands[0]!.argv[commands[0]!.argv.indexOf("--plan-out") + 1]!;
    expect(existsSync(planOut.replace(/\/railpack-plan\.json$/, ""))).toBe(false);
  });

  test("a timed-out buildctl says so", async () => {
    const { builder } = setup({}, { build: { code: 143, tail: [], timedOut: true } });
    await expect(builder.build(input())).rejects.toThrow("buildctl build took longer than 30 minutes");
  });

  test("without a BuildKit address or loader it refuses to build", async () => {
    await expect(setup({ buildkitHost: undefined }).builder.build(input())).rejects.toBeInstanceOf(StepError);
    await expect(setup({ loadImage: undefined }).builder.build(input())).rejects.toBeInstanceOf(StepError);
  });
});

describe("links out of the tree", () => {
  test("a tree with a symbolic link out of it fails before railpack reads it on the host", async () => {
    const { mkdtempSync, mkdirSync, rmSync, symlinkSync } = await import("node:fs");
    const src = mkdtempSync("/tmp/kiln-rp-links-");
    try {
      mkdirSync(`${src}/config`);
      symlinkSync("/etc/passwd", `${src}/config/users`);
      const { builder, commands, builds } = setup();
      await expect(builder.build(input({ srcDir: src }))).rejects.toThrow(
        "config/users is a symbolic link out of the source tree; Kiln does not follow it",
      );
      expect(commands).toEqual([]);
      expect(builds).toEqual([]);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
