import { describe, expect, test } from "bun:test";
import { StepError } from "../../core/errors.ts";
import { generateDockerfile } from "./dockerfile-gen.ts";
import type { AppPlan } from "./plan.ts";
import { staticCaddyfile } from "./static-caddyfile.ts";
import { findSiteCommand, missingSiteError, missingSiteLine, missingSiteMessage, siteDirs, staticContextFiles } from "./static-site.ts";

const NODE = "kiln/node-runtime:20-host";
const STATIC = "kiln/static-runtime:2.6.2-host";

function sitePlan(over: Partial<AppPlan> = {}): AppPlan {
  return {
    kind: "static",
    framework: "Vite SPA",
    packageManager: "npm",
    manifests: ["package.json", "package-lock.json"],
    installCmd: "npm ci",
    buildCmd: "npm run build",
    startCmd: "",
    port: 3000,
    serve: { dir: "dist", spa: true, alternatives: ["build", "out"] },
    buildImage: { name: "node" },
    runImage: { name: "static" },
    reasons: {},
    warnings: [],
    ...over,
  };
}

const gen = (plan: AppPlan) => generateDockerfile(plan, { images: { build: NODE, run: STATIC }, kilnDir: ".kiln", sourceDir: "source" });
const stages = (text: string) => text.split(/\n(?=FROM )/).slice(1).map((s) => s.split("\n").filter((l) => l && !l.startsWith("#") && !l.startsWith("    ")));

describe("the Dockerfile of a built static site", () => {
  const [build, final] = stages(gen(sitePlan()));

  test("the build stage is the Node.js one as for any app, then finds the site", () => {
    expect(build![0]).toBe(`FROM ${NODE} AS build`);
    expect(build).toContain("RUN --mount=type=cache,id=kiln-npm,target=/root/.npm npm ci");
    expect(build).toContain("COPY source/ ./");
    expect(build!.join("\n")).not.toContain("rm -rf .kiln");
    expect(build!.at(-2)).toBe("RUN --mount=type=cache,id=kiln-npm,target=/root/.npm npm run build");
    expect(build!.at(-1)).toBe(`RUN ${findSiteCommand(["dist", "build", "out"])}`);
  });

  test("the final stage is the static image holding only the site, in /srv, and the Caddyfile; caddy runs unprivileged on $PORT", () => {
    expect(final).toEqual([
      `FROM ${STATIC}`,
      "WORKDIR /srv",
      "ENV PORT=3000 \\",
      "COPY --from=build /kiln-site /srv",
      "COPY .kiln/Caddyfile /etc/caddy/Caddyfile",
      "USER 1000:1000",
      "EXPOSE 3000",
      'CMD ["caddy","run","--config","/etc/caddy/Caddyfile","--adapter","caddyfile"]',
    ]);
    // Caddy's config and data folders (autosave, storage) where uid 1000 may write.
    expect(gen(sitePlan())).toContain("ENV PORT=3000 \\\n    XDG_CONFIG_HOME=/tmp/caddy/config \\\n    XDG_DATA_HOME=/tmp/caddy/data\n");
    expect(gen(sitePlan())).not.toContain("NODE_ENV");
    expect(gen(sitePlan())).not.toContain("COPY --from=build --chown");
  });

  test("the app's run env and port go to the final stage", () => {
    const text = gen(sitePlan({ port: 8080, runEnv: { TZ: "UTC" } }));
    expect(text).toContain("ENV TZ=UTC \\\n    PORT=8080 \\\n");
    expect(text).toContain("EXPOSE 8080\n");
  });
});

describe("the Dockerfile of a plain static site (nothing to install or build)", () => {
  const plan = sitePlan({ packageManager: undefined, manifests: [], installCmd: undefined, buildCmd: undefined, serve: { dir: ".", spa: false }, buildImage: { name: "static" } });
  const [build, final] = stages(gen(plan));

  test("no Node.js stage: the tree is gathered in the static image, only the source folder of the context copied (Kiln's files stay out)", () => {
    expect(build).toEqual([`FROM ${STATIC} AS build`, "WORKDIR /app", "COPY source/ ./", `RUN ${findSiteCommand(["."])}`]);
    expect(gen(plan)).not.toContain(NODE);
    expect(final![0]).toBe(`FROM ${STATIC}`);
  });
});

describe("finding the site", () => {
  test("dir, then the alternatives, as plain relative folders, once each", () => {
    expect(siteDirs({ dir: "dist", spa: false, alternatives: ["build", "out", "dist"] })).toEqual(["dist", "build", "out"]);
    expect(siteDirs({ dir: "./site/", spa: false })).toEqual(["site"]);
    expect(siteDirs({ dir: ".", spa: false })).toEqual(["."]);
    expect(siteDirs({ dir: "./", spa: false })).toEqual(["."]);
    expect(siteDirs({ dir: ".output/public", spa: false })).toEqual([".output/public"]);
    expect(siteDirs(undefined)).toEqual(["."]);
  });

  test("a folder outside the app, or one that would need quoting, fails the build", () => {
    for (const dir of ["../site", "/srv", "a/../../b", "a b", "x;rm -rf /", "it's", "a//b"]) {
      const err = (() => {
        try {
          siteDirs({ dir, spa: false });
        } catch (e) {
          return e;
        }
      })();
      expect([dir, err instanceof StepError]).toEqual([dir, true]);
      expect((err as StepError).message).toContain(JSON.stringify(dir));
    }
  });

  test("the step: the first folder holding an index.html, copied without node_modules and links out, readable by all", () => {
    expect(findSiteCommand(["dist", "build"])).toBe(
      [
        "set -e",
        "site=",
        'for d in dist build; do if [ -f "$d/index.html" ]; then site="$d"; break; fi; done',
        "if [ -z \"$site\" ]; then echo 'kiln: no site to serve: the build made no index.html in dist/ or build/' >&2; exit 1; fi",
        'echo "kiln: serving $site/"',
        'cp -R "$site" /kiln-site',
        "rm -rf /kiln-site/node_modules",
        'find /kiln-site -type l | while IFS= read -r l; do case "$(readlink -f "$l")" in /kiln-site/*) ;; *) rm -f "$l" ;; esac; done',
        "chmod -R a+rX,go-w /kiln-site",
      ].join("; "),
    );
  });

  test("none found: one line in the build's output, and the build's error naming every folder and what to do", () => {
    expect(missingSiteMessage(["dist"])).toBe("no site to serve: the build made no index.html in dist/");
    expect(missingSiteMessage(["dist", "build", "out", "public", "_site"])).toBe("no site to serve: the build made no index.html in dist/, build/, out/, public/ or _site/");
    expect(missingSiteLine(["dist"])).toBe("kiln: no site to serve: the build made no index.html in dist/");
    expect(missingSiteLine(["dist"])).not.toContain("'");
    const err = missingSiteError(["dist", "build"]);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toBe("no site to serve: the build made no index.html in dist/ or build/");
    expect(err.hint).toContain("settings.buildCommand");
    expect(err.hint).toContain("Procfile web: line");
  });
});

describe("staticContextFiles", () => {
  test("a static site's Caddyfile beside the Dockerfile; nothing for other kinds", () => {
    expect(staticContextFiles(sitePlan(), ".kiln-2")).toEqual({ ".kiln-2/Caddyfile": staticCaddyfile({ root: "/srv", spa: true, port: 3000 }) });
    expect(staticContextFiles(sitePlan({ serve: { dir: "public", spa: false }, port: 8080 }), ".kiln")).toEqual({ ".kiln/Caddyfile": staticCaddyfile({ root: "/srv", spa: false, port: 8080 }) });
    expect(staticContextFiles(sitePlan({ kind: "node", serve: undefined }), ".kiln")).toEqual({});
  });
});
