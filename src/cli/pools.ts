/** kiln pools | workloads | tenants | claim | release: the tenant pools. */
import { parse, positionals } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { ago, statusColor, table } from "./output.ts";

export const pools: Command = {
  name: "pools",
  summary: "each workload's warm pool and its members",
  help: `Usage: kiln pools [--json]

For each workload: members ready, warming and claimed, and the pool's min/max size.

${COMMON_FLAGS}

Example:
  kiln pools`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    positionals(pos, []);
    const list = await client(values).pools();
    if (values.json) {
      out.json({ pools: list });
      return EXIT.ok;
    }
    if (list.length === 0) {
      out.out("no workloads loaded; put a workload YAML in KILN_WORKLOADS_DIR (see docs/workloads.md)");
      return EXIT.ok;
    }
    const rows = list.map((p) => [p.workload, String(p.counts.ready), String(p.counts.warming), String(p.counts.claimed), `${p.minSize}..${p.maxSize}`]);
    out.out(table([["WORKLOAD", "READY", "WARMING", "CLAIMED", "SIZE"], ...rows], out.paint));
    return EXIT.ok;
  },
};

export const workloads: Command = {
  name: "workloads",
  summary: "the loaded workloads, and files that failed to load",
  help: `Usage: kiln workloads [--json]

${COMMON_FLAGS}

Example:
  kiln workloads --json`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    positionals(pos, []);
    const w = await client(values).workloads();
    if (values.json) {
      out.json(w);
      return EXIT.ok;
    }
    out.out(table([["WORKLOAD", "IMAGE", "PORT", "FILE"], ...w.workloads.map((x) => [x.id, x.image, x.port === null ? "-" : String(x.port), x.file])], out.paint));
    for (const e of w.errors) out.err(`${out.paint.red("✘")} ${e.file}: ${e.message}`);
    return EXIT.ok;
  },
};

export const tenants: Command = {
  name: "tenants",
  summary: "tenants and their claims (one tenant with an argument)",
  help: `Usage: kiln tenants [tenant] [--json]

All tenants' claims and last sync, or one tenant's.

${COMMON_FLAGS}

Example:
  kiln tenants acme --json`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const [tenant] = positionals(pos, ["tenant"], 1);
    const api = client(values);
    const list = tenant ? await api.tenantStatus(tenant) : await api.tenants();
    if (values.json) {
      out.json({ tenants: list });
      return EXIT.ok;
    }
    if (list.length === 0) {
      out.out("no tenants");
      return EXIT.ok;
    }
    const rows = list.map((t) => [t.tenantId, t.workload, statusColor(t.status, out.paint), t.url ?? "-", ago(t.claimedAt)]);
    out.out(table([["TENANT", "WORKLOAD", "STATUS", "URL", "CLAIMED"], ...rows], out.paint));
    return EXIT.ok;
  },
};

export const claim: Command = {
  name: "claim",
  summary: "claim a workload's container for a tenant",
  help: `Usage: kiln claim <workload> <tenant> [--json]

Give the tenant a container of the workload (its existing one, a warm one from the pool, or a cold
start) with the tenant's own state and secrets mounted, and print its URL. Exit 1 when the pool is
at max_size (retry later).

${COMMON_FLAGS}

Example:
  kiln claim echo acme`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const [workload, tenant] = positionals(pos, ["workload", "tenant"]) as [string, string];
    const c = await client(values).claim(workload, tenant);
    if (values.json) {
      out.json(c);
      return EXIT.ok;
    }
    out.out(`${out.paint.green("✔")} ${c.tenantId} claimed ${c.workload} (${c.source}, ${Math.round(c.latencyMs)} ms)${c.endpoint ? ` at ${out.paint.bold(c.endpoint.url)}` : ""}`);
    return EXIT.ok;
  },
};

export const release: Command = {
  name: "release",
  summary: "release a tenant's container(s)",
  help: `Usage: kiln release <tenant> [--workload W] [--json]

Release the tenant's containers (or only the one of workload W). When the workload's sync policy
says so, the tenant's state is uploaded first; if that fails nothing is released (exit 1).

${COMMON_FLAGS}

Example:
  kiln release acme --workload echo`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, { workload: { type: "string" } });
    const [tenant] = positionals(pos, ["tenant"]) as [string];
    const r = await client(values).release(tenant, values.workload ? { workload: values.workload } : {});
    if (values.json) {
      out.json(r);
      return EXIT.ok;
    }
    out.out(r.released.length ? `${tenant}: released ${r.released.join(", ")}` : `${tenant}: nothing to release`);
    return EXIT.ok;
  },
};
