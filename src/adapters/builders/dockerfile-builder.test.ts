import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { BuildInput } from "../../core/ports/builder.ts";
import type { ImageBuildRequest } from "../../core/ports/runtime.ts";
import { Secret } from "../../core/secret.ts";
import { readTarEntries } from "../../formats/tar/reader.ts";
import { DockerfileBuilder, exposedPort, stripSyntaxDirective } from "./dockerfile-builder.ts";

const FIXTURE = join(import.meta.dir, "../../../test/fixtures/apps/dockerfile");
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-dfb-"));
  temps.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function setup() {
  const requests: ImageBuildRequest[] = [];
  const runtime = {
    async buildImage(req: ImageBuildRequest) {
      requests.push(req);
      return { imageId: "sha256:1" };
    },
  };
  const lines: string[] = [];
  const input = (srcDir: string, over: Partial<BuildInput> = {}): BuildInput => ({
    deploymentId: "d",
    buildId: "b",
    srcDir,
    tag: "kiln/app-y:b",
    labels: { "kiln.managed": "true" },
    secrets: {},
    log: (_s, t) => lines.push(t),
    ...over,
  });
  return { runtime, requests, lines, input };
}

async function paths(req: ImageBuildRequest) {
  const ctx = req.context instanceof Uint8Array ? req.context : new Uint8Array(await new Response(req.context).arrayBuffer());
  return readTarEntries(ctx);
}

describe("DockerfileBuilder", () => {
  test("applies when there is a Dockerfile at the root (a file)", async () => {
    const { runtime } = setup();
    const b = new DockerfileBuilder({ runtime });
    expect(await b.applies(FIXTURE)).toBe(true);
    expect(await b.applies(tree({ "dockerfile.txt": "" }))).toBe(false);
    expect(await b.applies(tree({ "Dockerfile/x": "" }))).toBe(false);
  });

  test("a Dockerfile or .dockerignore linked out of the tree fails naming it; nothing is built", async () => {
    const { runtime, requests, input } = setup();
    const b = new DockerfileBuilder({ runtime });
    const linked = tree({});
    symlinkSync("/etc/passwd", join(linked, "Dockerfile"));
    await expect(b.applies(linked)).rejects.toThrow("Dockerfile is a symbolic link out of the source tree; Kiln does not follow it");
    const ignoreLinked = tree({ Dockerfile: "FROM base\n" });
    symlinkSync("../../../../etc/passwd", join(ignoreLinked, ".dockerignore"));
    await expect(b.build(input(ignoreLinked))).rejects.toThrow(".dockerignore is a symbolic link out of the source tree");
    expect(requests).toEqual([]);
  });

  test("the fixture: built as is, .dockerignore applied, the EXPOSEd port reported", async () => {
    const { runtime, requests, input } = setup();
    const src = tree({
      Dockerfile: "FROM base\nCOPY . .\nEXPOSE 8080/tcp\n",
      ".dockerignore": "node_modules\n*.log\nDockerfile\n.dockerignore\n",
      "server.js": "",
      "debug.log": "",
      "node_modules/a.js": "",
    });
    const out = await new DockerfileBuilder({ runtime }).build(input(src));
    expect(out).toEqual({ image: "kiln/app-y:b", port: 8080, plan: "detected: the app's own Dockerfile → build it → its EXPOSE 8080" });
    const req = requests[0]!;
    expect(req.dockerfile).toBe("Dockerfile");
    expect(req.labels).toEqual({ "kiln.managed": "true" });
    expect((await paths(req)).map((e) => e.entry.path).sort()).toEqual([".dockerignore", "Dockerfile", "server.js"]);
  });

  test("a # syntax= directive is dropped: the Dockerfile goes in as .kiln/Dockerfile", async () => {
    const { runtime, requests, input, lines } = setup();
    const src = tree({ Dockerfile: "# syntax=docker/dockerfile:1.7\n# escape=`\nFROM base\n", "a.txt": "" });
    const out = await new DockerfileBuilder({ runtime }).build(input(src));
    expect(out).toEqual({ image: "kiln/app-y:b", plan: "detected: the app's own Dockerfile → build it" });
    const req = requests[0]!;
    expect(req.dockerfile).toBe(".kiln/Dockerfile");
    const entries = await paths(req);
    expect(entries[1]!.entry.path).toBe(".kiln/Dockerfile");
    expect(new TextDecoder().decode(entries[1]!.data)).toBe("# escape=`\nFROM base\n");
    expect(lines.join("\n")).toContain("ignoring \"# syntax=docker/dockerfile:1.7\"");
  });

  test("keepSyntaxDirective keeps it", async () => {
    const { runtime, requests, input } = setup();
    const src = tree({ Dockerfile: "# syntax=docker/dockerfile:1\nFROM base\n" });
    await new DockerfileBuilder({ runtime, keepSyntaxDirective: true }).build(input(src));
    expect(requests[0]!.dockerfile).toBe("Dockerfile");
  });

  test("secrets go to the runtime as BuildKit secrets, never build args; the log names them without their values", async () => {
    const { runtime, requests, input, lines } = setup();
    const token = new Secret("tok-12345");
    await new DockerfileBuilder({ runtime }).build(input(FIXTURE, { secrets: { TOKEN: token } }));
    expect(requests[0]!.buildArgs).toBeUndefined();
    expect(requests[0]!.secrets).toEqual({ TOKEN: token });
    expect(lines.join("\n")).toContain("build-time secrets available to RUN --mount=type=secret,id=NAME (read from /run/secrets/NAME): TOKEN");
    expect(lines.join("\n")).not.toContain("tok-12345");
  });
});

describe("stripSyntaxDirective", () => {
  test("only among the leading directives", () => {
    expect(stripSyntaxDirective("#syntax = x\nFROM a\n")).toEqual({ text: "FROM a\n", directive: "syntax=x" });
    expect(stripSyntaxDirective("# check=skip=all\n# SYNTAX=x\nFROM a")).toEqual({ text: "# check=skip=all\nFROM a", directive: "syntax=x" });
    expect(stripSyntaxDirective("# a comment\n# syntax=x\nFROM a").directive).toBeNull();
    expect(stripSyntaxDirective("FROM a\n# syntax=x\n").directive).toBeNull();
  });
});

describe("exposedPort", () => {
  test("the first numeric EXPOSE of the last stage", () => {
    expect(exposedPort("FROM a\nEXPOSE 80\nFROM b\nexpose 3000 4000\n")).toBe(3000);
    expect(exposedPort("FROM a\nEXPOSE 80\nFROM b\n")).toBeUndefined();
    expect(exposedPort("FROM a\nEXPOSE $PORT 5000/udp\n")).toBe(5000);
    expect(exposedPort("FROM a\nEXPOSE \\\n  8000-8010\n")).toBe(8000);
    expect(exposedPort("FROM a\n# EXPOSE 1\n")).toBeUndefined();
  });

  test("the fixture exposes 8080", async () => {
    expect(exposedPort(await Bun.file(join(FIXTURE, "Dockerfile")).text())).toBe(8080);
  });
});
