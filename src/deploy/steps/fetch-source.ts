/** Step 1: put the source tree in ctx.srcDir (git clone or tarball extraction). */
import { join } from "node:path";
import { readdirBeneath } from "../../adapters/fs/beneath.ts";
import type { Step } from "../context.ts";

export const fetchSource: Step = {
  name: "source",
  title: "fetching source",
  async run(ctx, deps) {
    const fetcher = ctx.source.kind === "git" ? deps.fetchers.git : deps.fetchers.tarball;
    const what = ctx.source.kind === "git" ? `cloning ${ctx.source.url}${ctx.source.ref ? ` at ${ctx.source.ref}` : ""}` : "unpacking the uploaded tarball";
    ctx.log("system", what);
    const result = await fetcher.fetch(ctx.source, ctx.srcDir, { signal: ctx.signal, log: ctx.log });
    if (result.commit) {
      ctx.commit = result.commit;
      ctx.log("system", `checked out ${result.commit.slice(0, 12)}`);
    }
    ctx.fetchedDir = ctx.srcDir;
    ctx.srcDir = await appRoot(ctx.srcDir);
  },
};

/** A tarball made with `tar -czf app.tgz app/` wraps the app in one folder: build from inside it. */
async function appRoot(dir: string): Promise<string> {
  const entries = await readdirBeneath(dir);
  const only = entries[0];
  if (entries.length === 1 && only && only.kind === "directory") return join(dir, only.name);
  return dir;
}
