/**
 * kiln domains ls | add | rm: an app's own domains and their certificate state; kiln tls root-pem:
 * the internal CA's root certificate (KILN_TLS=internal), written to stdout for a trust store.
 */
import { parse, positionals } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { domainAddedLines, domainRows, subcommand } from "./integrations-view.ts";
import { table } from "./output.ts";

export const domains: Command = {
  name: "domains",
  summary: "list, add or remove an app's own domains (with their HTTPS certificate state)",
  help: `Usage: kiln domains ls <name|id> [--json]
       kiln domains add <name|id> <host> [--json]
       kiln domains rm <name|id> <host>

ls    the app's domains: host, status, certificate expiry and what to do next
        status http     TLS is off (KILN_TLS=off): served over plain HTTP
               pending  no certificate yet: issued at the first HTTPS request (point DNS here first)
               active   certificate in place, renewed automatically
               failed   issuance failed: the detail says why and what to fix
add   attach a domain: Caddy serves the app there from now on; prints the URL and what happens next
rm    detach a domain: it answers 404 from then on
A domain belongs to one app at a time: detach it there first.

${COMMON_FLAGS}

Examples:
  kiln domains add hello shop.example.com
  kiln domains ls hello
  kiln domains rm hello shop.example.com`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const { sub, rest } = subcommand(pos, ["ls", "add", "rm"] as const, "domains");
    if (sub === "ls") {
      const [id] = positionals(rest, ["name|id"]) as [string];
      const list = await client(values).domains(id);
      if (values.json) out.json({ domains: list });
      else if (list.length === 0) out.out(`${id} has no domains of its own; add one with: kiln domains add ${id} <host>`);
      else out.out(table(domainRows(list), out.paint));
      return EXIT.ok;
    }
    const [id, host] = positionals(rest, ["name|id", "host"]) as [string, string];
    if (sub === "add") {
      const d = await client(values).addDomain(id, host);
      if (values.json) out.json(d);
      else out.out(domainAddedLines(id, d).join("\n"));
      return EXIT.ok;
    }
    await client(values).removeDomain(id, host);
    if (values.json) out.json({ removed: host });
    else out.out(`${host} detached from ${id}: it answers 404 from now on`);
    return EXIT.ok;
  },
};

export const tls: Command = {
  name: "tls",
  summary: "the internal CA's root certificate to trust (KILN_TLS=internal)",
  help: `Usage: kiln tls root-pem

Write the root certificate of Caddy's internal CA to stdout (PEM), so a browser, curl or the OS can
trust the HTTPS Kiln serves with KILN_TLS=internal. Fails (exit 1) when the server runs another
KILN_TLS mode: acme certificates are trusted already, and off has none.

${COMMON_FLAGS}

Examples:
  kiln tls root-pem > kiln-root.pem
  curl --cacert kiln-root.pem https://shop.example.com/`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const { rest } = subcommand(pos, ["root-pem"] as const, "tls");
    positionals(rest, []);
    const pem = await client(values).rootPem();
    if (values.json) out.json({ pem });
    else process.stdout.write(pem.endsWith("\n") ? pem : `${pem}\n`);
    return EXIT.ok;
  },
};
