/**
 * A plain static site: index.html at the root or in public/, with nothing to build.
 */
import { DEFAULT_PORT, type AppPlan } from "../plan.ts";
import { shellWord, type Provider } from "./provider.ts";

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
    startCmd: `busybox httpd -f -v -p "$PORT" -h ${dir === "." ? "." : shellWord(dir)}`,
    port: DEFAULT_PORT,
    buildImage: { name: "node" },
    runImage: { name: "node" },
    reasons: {
      kind: `${where} and no package.json: a static site`,
      start: `busybox httpd serves ${dir === "." ? "the app root" : `${dir}/`}`,
      port: `httpd listens on $PORT (${DEFAULT_PORT} unless the app's environment sets it)`,
    },
    warnings,
  };
}
