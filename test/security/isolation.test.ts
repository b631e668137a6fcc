/**
 * Network isolation against the real Docker engine, Caddy and a test Kiln: pool members and apps sit
 * on Kiln's bridge with inter-container traffic off, so none reaches another; Kiln's API and Caddy's
 * admin API (on 127.0.0.1) are not reachable from a container through its gateway; a member sees
 * only its own tenant's files; two apps that name the same network reach each other there. Each
 * probe is one TCP connection attempt from inside a container (node's net.connect, 2 s timeout).
 * Also: how Kiln treats a network an older Kiln made with inter-container traffic on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { KilnError } from "../../src/core/errors.ts";
import { demuxLines } from "../../src/formats/log-demux.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { TEST_NETWORK } from "../helpers/network.ts";
import { WORKLOAD_IMAGE, WORKLOAD_IMAGE_TIMEOUT_MS, ensureWorkloadImage, workloadYaml, writeWorkload } from "../helpers/workloads.ts";

const SOCKET = "/var/run/docker.sock";
const HELLO = join(import.meta.dir, "../../examples/hello-node");
const SUFFIX = Math.random().toString(36).slice(2, 8);
const SHARED = `kiln-test-shared-${SUFFIX}`;
const SUITE = { "kiln.test.suite": "isolation" };
const ICC = "com.docker.network.bridge.enable_icc";

let kiln: TestKiln;
const apps: Record<string, { id: string; container: string }> = {};
const members: Record<string, string> = {};

/** Raw Engine API, for what the runtime port does not expose (exec, network details). */
async function engine<T>(path: string, method = "GET", body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://docker/v1.41${path}`, {
    method,
    unix: SOCKET,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Run a command inside a running container; its exit code and output lines. */
async function execIn(container: string, cmd: string[]): Promise<{ code: number; lines: string[] }> {
  const created = await engine<{ Id: string }>(`/containers/${container}/exec`, "POST", { AttachStdout: true, AttachStderr: true, Cmd: cmd });
  const res = await fetch(`http://docker/v1.41/exec/${created.body.Id}/start`, {
    method: "POST",
    unix: SOCKET,
    body: JSON.stringify({ Detach: false, Tty: false }),
    headers: { "content-type": "application/json" },
  } as RequestInit);
  const lines: string[] = [];
  await demuxLines(res.body!, (_s, line) => lines.push(line));
  const done = await engine<{ ExitCode: number }>(`/exec/${created.body.Id}/json`);
  return { code: done.body.ExitCode, lines };
}

/** One TCP connection attempt from inside `container`: "connected", "timeout" or the error code. */
async function probe(container: string, host: string, port: number): Promise<string> {
  const js =
    `const s=require('net').connect({host:${JSON.stringify(host)},port:${port}});` +
    `const t=setTimeout(()=>{console.log('timeout');process.exit(0)},2000);` +
    `s.on('connect',()=>{console.log('connected');process.exit(0)});` +
    `s.on('error',e=>{console.log(e.code);process.exit(0)});`;
  const out = await execIn(container, ["node", "-e", js]);
  expect(out.code).toBe(0);
  return out.lines.at(-1) ?? "";
}

async function ipOn(container: string, network: string): Promise<string> {
  const info = await engine<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>(`/containers/${container}/json`);
  return info.body.NetworkSettings.Networks[network]!.IPAddress;
}

async function network(name: string): Promise<{ Id: string; Options: Record<string, string>; Labels: Record<string, string>; IPAM: { Config: { Gateway: string }[] } }[]> {
  const list = await engine<{ Id: string; Name: string }[]>(`/networks?filters=${encodeURIComponent(JSON.stringify({ name: [name] }))}`);
  const ours = list.body.filter((n) => n.Name === name);
  return Promise.all(ours.map(async (n) => (await engine<any>(`/networks/${n.Id}`)).body));
}

async function claim(tenant: string): Promise<{ containerId: string; endpoint: { port: number } }> {
  const secrets = join(kiln.config.dataDir, "tenants/iso", tenant, "secrets");
  mkdirSync(secrets, { recursive: true });
  writeFileSync(join(secrets, "key"), `secret-of-${tenant}`);
  const res = await kiln.api(`/tenants/${tenant}/claim`, { method: "POST", body: JSON.stringify({ workload: "iso" }), headers: { "content-type": "application/json" } });
  expect(res.status).toBe(200);
  return (await res.json()) as { containerId: string; endpoint: { port: number } };
}

async function waitReady(workload: string, n: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pools = (await (await kiln.api("/pools")).json()) as { pools: { workload: string; counts: { ready: number } }[] };
    if ((pools.pools.find((p) => p.workload === workload)?.counts.ready ?? 0) >= n) return;
    await Bun.sleep(100);
  }
  throw new Error(`pool ${workload} never had ${n} ready members`);
}

async function deploy(name: string, networks?: string[]): Promise<void> {
  const query = `name=${name}${networks ? `&networks=${networks.join(",")}` : ""}`;
  const res = await kiln.api(`/deployments/upload?${query}`, { method: "POST", body: await tarOf(HELLO, true) });
  expect(res.status).toBe(202);
  const dep = (await res.json()) as { id: string; networks: string[] };
  expect(dep.networks).toEqual(networks ?? []);
  const running = await kiln.waitFor(dep.id, ["running", "failed"]);
  expect(running.failureReason).toBeNull();
  const [c] = await kiln.runtime.listContainers({ "kiln.deployment": dep.id });
  apps[name] = { id: dep.id, container: c!.id };
}

async function removeTestNetworks(): Promise<void> {
  const filters = (label: string) => encodeURIComponent(JSON.stringify({ label: [label] }));
  for (const label of ["kiln.test.suite=isolation", `kiln.shared-network=${SHARED}`]) {
    const nets = await engine<{ Id: string }[]>(`/networks?filters=${filters(label)}`);
    for (const n of nets.body) {
      const detail = await engine<{ Containers: Record<string, unknown> }>(`/networks/${n.Id}`);
      for (const id of Object.keys(detail.body.Containers ?? {})) await engine(`/containers/${id}?force=1`, "DELETE");
      await engine(`/networks/${n.Id}`, "DELETE");
    }
  }
}

beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  await removeTestNetworks();
  kiln = await startTestKiln();
  writeWorkload(kiln.config.pools.workloadsDir, "iso", workloadYaml("iso", { min: 2, max: 3, healthInterval: "1s" }));
  await waitReady("iso", 2);
  const a = await claim("a");
  const b = await claim("b");
  members.a = a.containerId;
  members.b = b.containerId;
  await deploy("iso-one", [SHARED]);
  await deploy("iso-two", [SHARED]);
  await deploy("iso-three");
}, 600_000);

afterAll(async () => {
  for (const t of ["a", "b"]) await kiln?.api(`/tenants/${t}/release`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } }).catch(() => {});
  await kiln?.stop();
  await removeTestNetworks();
}, 120_000);

describe("Kiln's network", () => {
  test("is a bridge with inter-container traffic off", async () => {
    const [net] = await network(TEST_NETWORK);
    expect(net!.Options[ICC]).toBe("false");
  });

  test("Caddy still reaches apps and tenants through their loopback ports", async () => {
    expect((await kiln.viaSubdomain("iso-one")).status).toBe(200);
    const res = await fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: "a.iso.localhost" } });
    expect(await res.text()).toContain("secret=secret-of-a");
  });
});

describe("from inside a pool member", () => {
  test("the probe works: member A reaches its own port at its own address", async () => {
    expect(await probe(members.a!, await ipOn(members.a!, TEST_NETWORK), 8080)).toBe("connected");
  });

  test("member A cannot connect to member B", async () => {
    expect(await probe(members.a!, await ipOn(members.b!, TEST_NETWORK), 8080)).not.toBe("connected");
  });

  test("member A cannot connect to an app container", async () => {
    expect(await probe(members.a!, await ipOn(apps["iso-three"]!.container, TEST_NETWORK), 3000)).not.toBe("connected");
  });

  test("member A sees only tenant A's secrets, and no mount of tenant B's files", async () => {
    const ls = await execIn(members.a!, ["ls", "-A", "/secrets"]);
    expect(ls.lines).toEqual(["key"]);
    const cat = await execIn(members.a!, ["cat", "/secrets/key"]);
    expect(cat.lines).toEqual(["secret-of-a"]);
    const mounts = await execIn(members.a!, ["cat", "/proc/self/mountinfo"]);
    expect(mounts.lines.join("\n")).toContain("/tenants/iso/a/");
    expect(mounts.lines.join("\n")).not.toContain("/tenants/iso/b/");
  });
});

describe("from inside an app container", () => {
  test("an app cannot connect to another app on Kiln's network", async () => {
    expect(await probe(apps["iso-three"]!.container, await ipOn(apps["iso-one"]!.container, TEST_NETWORK), 3000)).not.toBe("connected");
  });

  test("an app cannot reach Kiln's API or Caddy's admin API through the bridge gateway", async () => {
    const [net] = await network(TEST_NETWORK);
    const gateway = net!.IPAM.Config[0]!.Gateway;
    const app = apps["iso-three"]!.container;
    expect(await probe(app, gateway, kiln.config.api.port)).not.toBe("connected");
    expect(await probe(app, gateway, Number(new URL(kiln.caddyAdmin).port))).not.toBe("connected");
  });

  test("two apps naming the same network reach each other there, by deployment name", async () => {
    const [shared] = await network(SHARED);
    expect(shared!.Labels).toMatchObject({ "kiln.managed": "true", "kiln.shared-network": SHARED });
    expect(await probe(apps["iso-one"]!.container, "iso-two", 3000)).toBe("connected");
  });
});

describe("a network with inter-container traffic on, as an older Kiln made it", () => {
  const make = (name: string, labels: Record<string, string>) =>
    engine<{ Id: string }>("/networks/create", "POST", { Name: name, Driver: "bridge", Labels: { ...SUITE, ...labels } });

  test("unused and made by Kiln: two Kilns starting at once recreate it isolated, once", async () => {
    const name = `kiln-test-old-${SUFFIX}`;
    const old = await make(name, { "kiln.managed": "true" });
    const racers = [new DockerEngine({ socketPath: SOCKET }), new DockerEngine({ socketPath: SOCKET })];
    await Promise.all(racers.map((r) => r.ensureNetwork(name, { "kiln.managed": "true", ...SUITE })));
    const nets = await network(name);
    expect(nets).toHaveLength(1);
    expect(nets[0]!.Id).not.toBe(old.body.Id);
    expect(nets[0]!.Options[ICC]).toBe("false");
  });

  test("with a container attached: refused, naming the network, the container and what to do", async () => {
    const name = `kiln-test-busy-${SUFFIX}`;
    await make(name, { "kiln.managed": "true" });
    const c = await engine<{ Id: string }>(`/containers/create?name=kiln-test-busy-${SUFFIX}`, "POST", {
      Image: WORKLOAD_IMAGE,
      Cmd: ["sleep", "60"],
      Labels: SUITE,
      HostConfig: { NetworkMode: name },
    });
    await engine(`/containers/${c.body.Id}/start`, "POST");
    const err = await new DockerEngine({ socketPath: SOCKET }).ensureNetwork(name, { "kiln.managed": "true" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toBe(
      `Docker network ${name} allows traffic between its containers (${ICC} is not "false"), and containers are attached to it ` +
        `(kiln-test-busy-${SUFFIX}): it was made by an older Kiln, and Kiln will not keep tenants and apps on a network where they reach each other`,
    );
    expect((err as KilnError).hint).toBe(
      `stop and remove those containers, then docker network rm ${name} (Kiln makes it anew, isolated); or point Kiln at another network name (KILN_DOCKER_NETWORK)`,
    );
    await engine(`/containers/${c.body.Id}?force=1`, "DELETE");
  });

  test("not made by Kiln: refused even when unused", async () => {
    const name = `kiln-test-foreign-${SUFFIX}`;
    await make(name, {});
    const err = await new DockerEngine({ socketPath: SOCKET }).ensureNetwork(name, { "kiln.managed": "true" }).catch((e: unknown) => e);
    expect((err as KilnError).message).toBe(
      `Docker network ${name} allows traffic between its containers (${ICC} is not "false") and was not made by Kiln, so Kiln will not put containers on it`,
    );
    expect((await network(name))[0]!.Options[ICC]).toBeUndefined();
  });
});

describe("bad input: networks", () => {
  const git = (networks: unknown) =>
    kiln.api("/deployments", {
      method: "POST",
      body: JSON.stringify({ gitUrl: "https://example.com/acme/app.git", networks }),
      headers: { "content-type": "application/json" },
    });
  const message = async (res: Response) => {
    expect(res.status).toBe(400);
    return ((await res.json()) as { error: { message: string } }).error.message;
  };

  test("Docker's own networks are refused", async () => {
    expect(await message(await git(["bridge"]))).toBe(
      "networks.0: bridge, host, none and default are Docker's own networks: name a network of your own, e.g. shared-db",
    );
  });

  test("a malformed name, too many, or one twice", async () => {
    expect(await message(await git(["shared db"]))).toBe(
      "networks.0: a network name is 1–63 letters, digits, '_', '.' or '-', starting with a letter or digit",
    );
    expect(await message(await git(["a", "b", "c", "d", "e"]))).toBe("networks: at most 4 networks");
    expect(await message(await git(["a", "a"]))).toBe("networks: a network is named twice");
    expect(await message(await kiln.api("/deployments/upload?networks=ok,-bad", { method: "POST", body: new Uint8Array(0) }))).toBe(
      "networks.1: a network name is 1–63 letters, digits, '_', '.' or '-', starting with a letter or digit",
    );
  });

  test("Kiln's own network is not a shared network", async () => {
    const res = await kiln.api(`/deployments/upload?name=iso-own&networks=${TEST_NETWORK}`, { method: "POST", body: await tarOf(HELLO, true) });
    const body = (await res.json()) as { error: { message: string; hint: string } };
    expect(res.status).toBe(400);
    expect(body.error.message).toBe(`networks: ${TEST_NETWORK} is Kiln's own network, where containers are kept apart`);
    expect((await kiln.api("/deployments/iso-own")).status).toBe(404);
  });
});
