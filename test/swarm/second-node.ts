/**
 * A second Swarm node on this machine, for the two-node tests: a second dockerd in its own network
 * namespace (`kiln-n2`, a veth pair 10.213.7.1 ↔ .2), its own data root, exec root, socket, containerd
 * namespace and cgroup parent, joined to the machine's single-node swarm as a worker.
 *
 * The swarm was made on loopback (advertise 127.0.0.1), so the node reaches the manager's 127.0.0.1
 * through NAT, all scoped to the veth: in the node's namespace, 127.0.0.1 is routed out of the veth
 * (loopback has no 127.0.0.1 there, else VXLAN to the manager would short-cut to the node's own
 * socket) and DNATed to 10.213.7.1; on the host, packets arriving on the veth for 10.213.7.1 on the
 * swarm ports and the registry's are DNATed to 127.0.0.1 (route_localnet on that veth only), and
 * the manager's loopback-sourced gossip is SNATed to 10.213.7.1. VXLAN from the manager is SNATed to
 * 127.0.0.1 in the node's namespace on arrival, because Docker's static FDB entries there name the
 * manager as 127.0.0.1 and the kernel drops VXLAN whose source does not match a static entry.
 * Nothing else on the host changes; `remove()` undoes all of it (the node leaves and is removed from
 * the swarm by the manager, its dockerd stops, the namespace and rules go).
 *
 *   const node2 = await SecondNode.create({ registryPort });   // joined and Ready
 *   …
 *   await node2.remove();
 */
import { existsSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { EngineHttp } from "../../src/adapters/docker/http.ts";
import { SwarmClient } from "../../src/adapters/swarm/client.ts";

const NS = "kiln-n2";
const HOST_IF = "kn2-h";
const NODE_IF = "kn2-n";
const HOST_IP = "10.213.7.1";
const NODE_IP = "10.213.7.2";
const DATA = "/var/lib/kiln-swarm-n2";
const RUN = "/run/kiln-swarm-n2";
const SOCKET = `${RUN}/docker.sock`;
const PIDFILE = `${RUN}/docker.pid`;
const TAG = "kiln-swarm-n2";

/** The host's NAT rules for the node (inserted with -I, removed with -D of the same spec). */
function hostRules(registryPort: number): string[][] {
  return [
    ["-t", "nat", "PREROUTING", "-i", HOST_IF, "-d", HOST_IP, "-p", "tcp", "-m", "multiport", "--dports", `2377,7946,${registryPort}`, "-m", "comment", "--comment", TAG, "-j", "DNAT", "--to-destination", "127.0.0.1"],
    ["-t", "nat", "PREROUTING", "-i", HOST_IF, "-d", HOST_IP, "-p", "udp", "--dport", "7946", "-m", "comment", "--comment", TAG, "-j", "DNAT", "--to-destination", "127.0.0.1"],
    ["-t", "nat", "POSTROUTING", "-o", HOST_IF, "-s", "127.0.0.0/8", "-m", "comment", "--comment", TAG, "-j", "SNAT", "--to-source", HOST_IP],
  ];
}

/** Commands run inside the node's namespace once its veth is up. */
function nodeNetCommands(registryPort: number): string[][] {
  return [
    ["ip", "addr", "add", `${NODE_IP}/30`, "dev", NODE_IF],
    ["ip", "link", "set", NODE_IF, "up"],
    ["ip", "link", "set", "lo", "up"],
    ["ip", "addr", "del", "127.0.0.1/8", "dev", "lo"],
    ["sysctl", "-qw", `net.ipv4.conf.${NODE_IF}.route_localnet=1`, "net.ipv4.conf.all.route_localnet=1"],
    ["ip", "route", "add", "default", "via", HOST_IP],
    ["ip", "route", "add", "127.0.0.1/32", "via", HOST_IP, "dev", NODE_IF, "src", NODE_IP],
    ["iptables", "-t", "nat", "-A", "OUTPUT", "-d", "127.0.0.1", "-p", "tcp", "-m", "multiport", "--dports", `2377,7946,${registryPort}`, "-j", "DNAT", "--to-destination", HOST_IP],
    ["iptables", "-t", "nat", "-A", "OUTPUT", "-d", "127.0.0.1", "-p", "udp", "-m", "multiport", "--dports", "7946,4789", "-j", "DNAT", "--to-destination", HOST_IP],
    ["iptables", "-t", "nat", "-A", "POSTROUTING", "-o", NODE_IF, "-s", "127.0.0.0/8", "-j", "SNAT", "--to-source", NODE_IP],
    ["iptables", "-t", "nat", "-A", "INPUT", "-i", NODE_IF, "-s", HOST_IP, "-p", "udp", "--dport", "4789", "-j", "SNAT", "--to-source", "127.0.0.1"],
  ];
}

function dockerdArgv(): string[] {
  return [
    "nsenter", `--net=/run/netns/${NS}`, "dockerd",
    "--data-root", `${DATA}/docker`, "--exec-root", `${RUN}/exec`, "--pidfile", PIDFILE, "-H", `unix://${SOCKET}`,
    "--cgroup-parent", TAG, "--containerd-namespace", TAG, "--containerd-plugins-namespace", `${TAG}-plugins`,
    "--bip", "10.214.0.1/24", "--default-address-pool", "base=10.215.0.0/16,size=24",
  ];
}

function run(argv: string[], opts: { ok?: boolean } = {}): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 && !opts.ok) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

const inNs = (argv: string[]) => ["nsenter", `--net=/run/netns/${NS}`, ...argv];

export class SecondNode {
  private constructor(
    readonly client: SwarmClient,
    readonly nodeId: string,
    private readonly registryPort: number,
  ) {}

  /** Sets the node up (anything left by an earlier run removed first) and joins it; resolves once the manager sees it Ready. */
  static async create(opts: { registryPort: number; manager: SwarmClient }): Promise<SecondNode> {
    await SecondNode.cleanup(opts.registryPort, opts.manager);
    run(["ip", "netns", "add", NS]);
    run(["ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NODE_IF]);
    run(["ip", "link", "set", NODE_IF, "netns", NS]);
    run(["ip", "addr", "add", `${HOST_IP}/30`, "dev", HOST_IF]);
    run(["ip", "link", "set", HOST_IF, "up"]);
    run(["sysctl", "-qw", `net.ipv4.conf.${HOST_IF}.route_localnet=1`]);
    for (const rule of hostRules(opts.registryPort)) run(["iptables", rule[0]!, rule[1]!, "-I", ...rule.slice(2, 3), "1", ...rule.slice(3)]);
    for (const argv of nodeNetCommands(opts.registryPort)) run(inNs(argv));
    mkdirSync(DATA, { recursive: true, mode: 0o700 });
    mkdirSync(RUN, { recursive: true, mode: 0o700 });
    Bun.spawn(["setsid", ...dockerdArgv()], { stdout: Bun.file(`${DATA}/dockerd.log`), stderr: Bun.file(`${DATA}/dockerd.log`), stdin: "ignore" }).unref();
    const http = new EngineHttp(SOCKET, "v1.41");
    const client = new SwarmClient(http);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await http.send({ path: "/_ping" });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the second dockerd did not answer: ${String(err)}`);
        await Bun.sleep(250);
      }
    }
    const { workerToken } = await opts.manager.joinInfo();
    await http.send({ method: "POST", path: "/swarm/join", json: { ListenAddr: `${NODE_IP}:2377`, AdvertiseAddr: NODE_IP, RemoteAddrs: ["127.0.0.1:2377"], JoinToken: workerToken } });
    const nodeId = (await client.state()).nodeId;
    while (!(await opts.manager.nodes()).some((n) => n.id === nodeId && n.state === "ready")) {
      if (Date.now() > deadline) throw new Error("the second node did not become Ready");
      await Bun.sleep(250);
    }
    return new SecondNode(client, nodeId, opts.registryPort);
  }

  async remove(manager: SwarmClient): Promise<void> {
    await SecondNode.cleanup(this.registryPort, manager, this.nodeId);
  }

  /** Leaves and removes the node, stops its dockerd, removes the namespace, the rules and the data. */
  static async cleanup(registryPort: number, manager: SwarmClient, nodeId?: string): Promise<void> {
    const http = new EngineHttp(SOCKET, "v1.41");
    if (existsSync(SOCKET)) {
      nodeId ??= await new SwarmClient(http).state().then((s) => s.nodeId || undefined, () => undefined);
      await http.send({ method: "POST", path: "/swarm/leave", query: { force: true }, okStatuses: [503] }).catch(() => {});
    }
    if (nodeId) {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const n = (await manager.nodes()).find((x) => x.id === nodeId);
        if (!n) break;
        const res = await fetch(`http://docker/v1.41/nodes/${nodeId}?force=true`, { method: "DELETE", unix: "/var/run/docker.sock" } as RequestInit);
        await res.arrayBuffer();
        if (res.ok) break;
        await Bun.sleep(500);
      }
    }
    const pid = existsSync(PIDFILE) ? Number(readFileSync(PIDFILE, "utf8").trim()) : 0;
    if (pid > 0 && existsSync(`/proc/${pid}`)) {
      process.kill(pid, "SIGTERM");
      const deadline = Date.now() + 30_000;
      while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await Bun.sleep(200);
      if (existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
    }
    run(["ip", "netns", "del", NS], { ok: true });
    run(["ip", "link", "del", HOST_IF], { ok: true });
    for (const rule of hostRules(registryPort)) run(["iptables", rule[0]!, rule[1]!, "-D", ...rule.slice(2)], { ok: true });
    run(["umount", "-R", "-l", `${DATA}/docker`], { ok: true });
    run(["umount", "-R", "-l", `${RUN}/exec`], { ok: true });
    rmSync(RUN, { recursive: true, force: true });
    rmSync(DATA, { recursive: true, force: true });
  }
}
