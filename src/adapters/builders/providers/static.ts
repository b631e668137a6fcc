/**
 * A plain static site: index.html at the root or in public/, with nothing to build. Its files are
 * served as they are by the static server (Caddy, in the static image: static-site.ts); no
 * Node.js is involved, in the build or in the image.
 */
import { DEFAULT_PORT, type AppPlan } from "../plan.ts";
import type { Provider } from "./provider.ts";

export const staticProvider: Provider = {
  name: "static",
  looksAt: ["index.html", "public"],
  async plan({ tree, warnings }) {
    const dir = (await tree.isFile("index.html")) ? "." : (await tree.isFile("public/index.html")) ? "public" : null;
    if (dir === null) return null;
    return staticPlan(dir, warnings);
  },
};

function staticPlan(dir: string, warnings: string[]): AppPlan {
  const where = dir === "." ? "index.html at the root" : `${dir}/index.html`;
  return {
    kind: "static",
    manifests: [],
    serve: { dir, spa: false },
    startCmd: "",
    port: DEFAULT_PORT,
    buildImage: { name: "static" },
    runImage: { name: "static" },
    reasons: {
      kind: `${where} and no package.json: a static site`,
      serve: `${dir === "." ? "the app root" : `${dir}/`} as it is: nothing to build`,
      start: "the static server",
      port: `the static server listens on $PORT (${DEFAULT_PORT} unless the app's environment sets it)`,
    },
    warnings,
  };
}
