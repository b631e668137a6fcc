import { afterAll, describe, expect, test } from "bun:test";
import { detectApp } from "../detect.ts";
import { generateDockerfile } from "../dockerfile-gen.ts";
import { planLine } from "../plan-line.ts";
import { sourceTrees } from "../testdata/source-trees.ts";
import { workspaceModules } from "./go.ts";

const trees = sourceTrees("kiln-go-");
afterAll(trees.removeAll);

const plan = async (files: Record<string, string>) => detectApp(trees.tree(files));
const MOD = "module example.com/app\n\ngo 1.22\n";
const MAIN = "package main\n\nfunc main() {}\n";

describe("detection", () => {
  test("go.mod, go.work or main.go makes a Go app; Go is asked before Python and Node.js", async () => {
    expect((await plan({ "go.mod": MOD, "main.go": MAIN })).kind).toBe("go");
    expect((await plan({ "go.work": "go 1.22\nuse ./api\n", "api/main.go": MAIN, "api/go.mod": MOD })).kind).toBe("go");
    expect((await plan({ "main.go": MAIN })).kind).toBe("go");
    expect((await plan({ "go.mod": MOD, "main.go": MAIN, "package.json": "{}", "requirements.txt": "" })).kind).toBe("go");
  });
});

describe("plans", () => {
  test("go.mod with no require and the main package at the root: no install, one static binary, run alone", async () => {
    const p = await plan({ "go.mod": MOD, "main.go": MAIN, "main_test.go": "package main\n" });
    expect(p.installCmd).toBeUndefined();
    expect(p.reasons.install).toBe("go.mod requires no modules: nothing to download");
    expect(p.buildCmd).toBe('go build -trimpath -ldflags="-w -s" -o /app/server .');
    expect(p.startCmd).toBe("/app/server");
    expect(p.buildImage).toEqual({ name: "go", version: "1.22", versionFrom: "go.mod" });
    expect(p.runImage).toEqual({ name: "node" });
    expect(p.buildEnv).toEqual({ CGO_ENABLED: "0", GOTOOLCHAIN: "local" });
    expect(planLine(p)).toBe('detected: Go app → `go build -trimpath -ldflags="-w -s" -o /app/server .` → start `/app/server` on port 3000');

    const dockerfile = generateDockerfile(p, { images: { build: "golang:1.22", run: "kiln/node-runtime:20-host" }, kilnDir: ".kiln", sourceDir: "source" });
    expect(dockerfile).toContain(
      'RUN --mount=type=cache,id=kiln-go-build,target=/root/.cache/go-build --mount=type=cache,id=kiln-go-mod,target=/go/pkg/mod go build -trimpath -ldflags="-w -s" -o /app/server .',
    );
    expect(dockerfile).toContain('CMD ["sh","-c","exec /app/server"]');
  });

  test("required modules: go mod download with go.mod and go.sum copied first", async () => {
    const p = await plan({ "go.mod": `${MOD}\nrequire (\n\tgithub.com/google/uuid v1.6.0\n)\n`, "go.sum": "", "main.go": MAIN });
    expect(p.installCmd).toBe("go mod download");
    expect(p.manifests).toEqual(["go.mod", "go.sum"]);
  });

  test("vendored modules: nothing to download", async () => {
    const p = await plan({ "go.mod": `${MOD}\nrequire github.com/google/uuid v1.6.0\n`, "vendor/modules.txt": "# github.com/google/uuid v1.6.0\n", "main.go": MAIN });
    expect(p.installCmd).toBeUndefined();
    expect(p.reasons.install).toBe("vendor/ holds the modules: nothing to download");
  });

  test("no .go files at the root: the first command under cmd/", async () => {
    const p = await plan({ "go.mod": MOD, "cmd/web/main.go": MAIN, "cmd/api/main.go": MAIN, "internal/x.go": "package x\n" });
    expect(p.buildCmd).toBe('go build -trimpath -ldflags="-w -s" -o /app/server ./cmd/api');
    expect(p.reasons.build).toBe("the first command in cmd/ (cmd/api); CGO_ENABLED=0: one static binary");
  });

  test("a go.work without go.mod: the first workspace module with a main.go", async () => {
    const p = await plan({ "go.work": "go 1.22\n\nuse (\n\t./lib\n\t./api // the server\n)\n", "lib/go.mod": MOD, "lib/lib.go": "package lib\n", "api/go.mod": MOD, "api/main.go": MAIN });
    expect(p.buildCmd).toEndWith("-o /app/server ./api");
  });

  test("main.go alone: built as a file", async () => {
    const p = await plan({ "main.go": MAIN });
    expect(p.buildCmd).toEndWith("-o /app/server main.go");
    expect(p.buildImage).toEqual({ name: "go" });
  });

  test("a server/ package at the root: the binary gets another name", async () => {
    const p = await plan({ "go.mod": MOD, "main.go": MAIN, "server/server.go": "package server\n" });
    expect(p.buildCmd).toEndWith("-o /app/out .");
    expect(p.startCmd).toBe("/app/out");
  });

  test("the Procfile's web: line wins as the start command", async () => {
    const p = await plan({ "go.mod": MOD, "main.go": MAIN, Procfile: "web: ./server -addr :$PORT\n" });
    expect(p.startCmd).toBe("./server -addr :$PORT");
    expect(p.reasons.start).toBe("the web: line of the Procfile");
  });

  test("railpack.json: build commands around the detected build, and the start command", async () => {
    const p = await plan({
      "go.mod": MOD,
      "main.go": MAIN,
      "railpack.json": JSON.stringify({ steps: { build: { commands: ["go generate ./...", "..."] } }, deploy: { startCommand: "/app/server serve" } }),
    });
    expect(p.buildCmd).toBe('go generate ./... && go build -trimpath -ldflags="-w -s" -o /app/server .');
    expect(p.startCmd).toBe("/app/server serve");
  });

  test("version: .go-version over go.mod's go line (a three-part line as written)", async () => {
    expect((await plan({ "go.mod": "module x\n\ngo 1.22.3\n", "main.go": MAIN })).buildImage).toEqual({ name: "go", version: "1.22.3", versionFrom: "go.mod" });
    expect((await plan({ "go.mod": MOD, ".go-version": "1.23.1\n", "main.go": MAIN })).buildImage).toEqual({ name: "go", version: "1.23.1", versionFrom: ".go-version" });
  });
});

test("workspaceModules: use lines and blocks, comments and parent paths dropped", () => {
  expect(workspaceModules('go 1.22\nuse ./a\nuse (\n\t"./b"\n\t./c/ // c\n\t../outside\n\t.\n)\n')).toEqual(["a", "b", "c"]);
});
