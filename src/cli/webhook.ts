/**
 * kiln webhook create | show | rm: deploy on push. `create` prints the URL to give the Git host and
 * the secret — the only time it is ever shown — with where to paste them per Git host; `show`
 * never has a secret (the API does not return one).
 */
import { parse, positionals } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { subcommand, webhookCreatedLines, webhookLines } from "./integrations-view.ts";

export const webhook: Command = {
  name: "webhook",
  summary: "make, show or remove an app's deploy-on-push webhook (the secret shown once)",
  help: `Usage: kiln webhook create <name|id> [--json]
       kiln webhook show <name|id> [--json]
       kiln webhook rm <name|id>

create  make the app's webhook, or rotate its secret (the old one stops working): prints the URL
        to give GitHub, GitLab, Gitea/Forgejo or any CI, the secret (shown only this once) and
        where to paste them
show    whether the app has a webhook, and its URL (never the secret)
rm      remove it: deliveries are refused from then on

${COMMON_FLAGS}

Examples:
  kiln webhook create hello
  kiln webhook show hello`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const { sub, rest } = subcommand(pos, ["create", "show", "rm"] as const, "webhook");
    const [id] = positionals(rest, ["name|id"]) as [string];
    const api = client(values);
    if (sub === "create") {
      const made = await api.createWebhook(id);
      if (values.json) out.json(made);
      else out.out(webhookCreatedLines(id, made).join("\n"));
      return EXIT.ok;
    }
    if (sub === "show") {
      const w = await api.webhook(id);
      if (values.json) out.json(w);
      else out.out(webhookLines(id, w).join("\n"));
      return EXIT.ok;
    }
    await api.deleteWebhook(id);
    if (values.json) out.json({ removed: true });
    else out.out(`${id}: webhook removed; deliveries are refused from now on`);
    return EXIT.ok;
  },
};
