import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTarEntries } from "../../formats/tar/reader.ts";
import { encodeTar } from "../../formats/tar/writer.ts";
import { KilnError } from "../../core/errors.ts";
import { defaultPackDir, fileEntries, filesArchive, freeContextDir, loadDockerignore, withFilesInFront } from "./build-context.ts";

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "kiln-ctx-"));
  temps.push(d);
  return d;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = async (a: Uint8Array | ReadableStream<Uint8Array>) => (a instanceof Uint8Array ? a : new Uint8Array(await new Response(a).arrayBuffer()));

describe("withFilesInFront", () => {
  const tree = encodeTar([{ path: "a.txt", type: "file", data: "A" }]);

  test("buffer: the added files (and their directory) come first, then the tree", async () => {
    const out = withFilesInFront({ ".kiln/Dockerfile": "FROM x\n" }, tree);
    expect(out).toBeInstanceOf(Uint8Array);
    const entries = await readTarEntries(out);
    expect(entries.map((e) => `${e.entry.type}:${e.entry.path}`)).toEqual(["directory:.kiln/", "file:.kiln/Dockerfile", "file:a.txt"]);
    expect(text(entries[1]!.data)).toBe("FROM x\n");
  });

  test("stream: same bytes as the buffer version", async () => {
    const stream = new Blob([tree]).stream();
    const out = withFilesInFront({ ".kiln/Dockerfile": "FROM x\n" }, stream);
    expect(out).toBeInstanceOf(ReadableStream);
    expect(await bytes(out)).toEqual(withFilesInFront({ ".kiln/Dockerfile": "FROM x\n" }, tree) as Uint8Array);
  });

  test("GNU tar reads the result", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "ctx.tar"), withFilesInFront({ ".kiln/Dockerfile": "FROM y\n" }, tree) as Uint8Array);
    const out = join(dir, "out");
    mkdirSync(out);
    const r = Bun.spawnSync(["tar", "-xf", join(dir, "ctx.tar"), "-C", out]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(out, ".kiln/Dockerfile"), "utf8")).toBe("FROM y\n");
    expect(readFileSync(join(out, "a.txt"), "utf8")).toBe("A");
  });

  test("the added entries are identical from build to build (layer cache)", () => {
    expect(fileEntries({ "d/f": "x" })).toEqual(fileEntries({ "d/f": "x" }));
  });
});

test("filesArchive is a complete archive of just those files", async () => {
  const entries = await readTarEntries(filesArchive({ Dockerfile: "FROM a\n" }));
  expect(entries.map((e) => e.entry.path)).toEqual(["Dockerfile"]);
});

test("freeContextDir avoids names the tree uses", async () => {
  const dir = tempDir();
  expect(await freeContextDir(dir)).toBe(".kiln");
  mkdirSync(join(dir, ".kiln"));
  writeFileSync(join(dir, ".kiln-2"), "");
  expect(await freeContextDir(dir)).toBe(".kiln-3");
});

test("defaultPackDir packs with the ignore function", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "node_modules"));
  writeFileSync(join(dir, "node_modules/x.js"), "");
  writeFileSync(join(dir, "keep.js"), "k");
  const packed = await defaultPackDir(dir, { ignore: (p) => p === "node_modules" });
  const entries = await readTarEntries(await bytes(packed));
  expect(entries.map((e) => e.entry.path)).toEqual(["keep.js"]);
});

describe("loadDockerignore", () => {
  test("no file: nothing left out but the defaults, which the file may re-include", async () => {
    const dir = tempDir();
    expect((await loadDockerignore(dir))("node_modules", { isDirectory: true })).toBe(false);
    expect((await loadDockerignore(dir, ["node_modules"]))("node_modules", { isDirectory: true })).toBe(true);
    writeFileSync(join(dir, ".dockerignore"), "*.log\n!node_modules\n");
    const ignore = await loadDockerignore(dir, ["node_modules"]);
    expect(ignore("node_modules", { isDirectory: true })).toBe(false);
    expect(ignore("debug.log", { isDirectory: false })).toBe(true);
  });

  test("a line Docker rejects is a bad_request naming .dockerignore and the line", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".dockerignore"), "dist\n[z-a]\n");
    const err = await loadDockerignore(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).kind).toBe("bad_request");
    expect((err as KilnError).message).toStartWith(".dockerignore line 2: ");
  });
});
