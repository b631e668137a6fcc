/**
 * The tenant resolver process stays small: `kiln tenant-resolver` (bin/kiln's first branch) loads
 * only src/routing/main.ts and what it imports, none of the server, the CLI or their libraries.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../adapters/store/sqlite.ts";
import { LISTENING } from "./main.ts";
import { resolverAnswers } from "./resolver-process.ts";

const ROOT = join(import.meta.dir, "../..");

test("src/routing/main.ts pulls in no package and no server or CLI module", async () => {
  const out = await Bun.build({ entrypoints: [join(ROOT, "src/routing/main.ts")], target: "bun" });
  const code = await out.outputs[0]!.text();
  const modules = [...code.matchAll(/^\/\/ (\S+\.ts)$/gm)].map((m) => m[1]!);
  expect(modules).toContain("src/routing/main.ts");
  expect(modules.filter((m) => m.startsWith("node_modules/") || m.startsWith("src/http/") || m.startsWith("src/cli/") || m === "src/main.ts" || m === "src/config.ts")).toEqual([]);
  expect(code.length).toBeLessThan(64 * 1024);
});

test("`bin/kiln tenant-resolver` without its flags exits 2 and says which one is missing", async () => {
  const p = Bun.spawn([process.execPath, join(ROOT, "bin/kiln"), "tenant-resolver", "--port", "0"], { stdout: "pipe", stderr: "pipe" });
  expect(await p.exited).toBe(2);
  expect(await new Response(p.stderr).text()).toContain("--db is required");
});

test("`bin/kiln tenant-resolver` answers on the address it prints, and stops on SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-resolver-main-"));
  const store = SqliteStore.open(join(dir, "kiln.db"));
  const p = Bun.spawn([process.execPath, join(ROOT, "bin/kiln"), "tenant-resolver", "--db", join(dir, "kiln.db"), "--public-host", "localhost", "--port", "0"], { stdout: "pipe", stderr: "inherit" });
  try {
    const reader = p.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toStartWith(`${LISTENING}127.0.0.1:`);
    expect(await resolverAnswers(text.slice(LISTENING.length).trim(), 1000)).toBe(true);
    p.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  } finally {
    p.kill("SIGKILL");
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
