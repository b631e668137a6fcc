import { describe, expect, test } from "bun:test";
import type { ContainerSpec } from "../../core/ports/runtime.ts";
import { KilnError } from "../../core/errors.ts";
import { ICC_OPTION, checkVolumeName, containerCreateBody, isIsolatedNetwork, networkConnectBody, networkCreateBody, volumeCreateBody } from "./create-body.ts";

const spec: ContainerSpec = {
  name: "kiln-app-web-1",
  image: "kiln/app-web:b1",
  labels: { "kiln.managed": "true", "kiln.app": "web" },
  env: { PORT: "3000", NODE_ENV: "production" },
  network: "kiln",
  publishPort: 3000,
  memoryBytes: 512 * 1024 * 1024,
  nanoCpus: 1_000_000_000,
  pidsLimit: 256,
  restartPolicy: "on-failure",
};

describe("containerCreateBody", () => {
  test("hardens every container", () => {
    const hc = containerCreateBody(spec).HostConfig;
    expect(hc.CapDrop).toEqual(["ALL"]);
    expect(hc.SecurityOpt).toEqual(["no-new-privileges:true"]);
    expect(hc.Init).toBe(true);
    expect(hc.ReadonlyRootfs).toBe(false);
    expect(hc.LogConfig).toEqual({ Type: "json-file", Config: { "max-size": "200m", "max-file": "2" } });
  });

  test("limits and restart policy", () => {
    const hc = containerCreateBody(spec).HostConfig;
    expect(hc.Memory).toBe(512 * 1024 * 1024);
    expect(hc.NanoCpus).toBe(1_000_000_000);
    expect(hc.PidsLimit).toBe(256);
    expect(hc.NetworkMode).toBe("kiln");
    expect(hc.RestartPolicy).toEqual({ Name: "on-failure", MaximumRetryCount: 5 });
    expect(containerCreateBody({ ...spec, restartPolicy: "unless-stopped" }).HostConfig.RestartPolicy).toEqual({
      Name: "unless-stopped",
    });
  });

  test("publishes the port on 127.0.0.1 only, host port chosen by the engine", () => {
    const body = containerCreateBody(spec);
    expect(body.ExposedPorts).toEqual({ "3000/tcp": {} });
    expect(body.HostConfig.PortBindings).toEqual({ "3000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] });
    expect(JSON.stringify(body)).not.toContain("0.0.0.0");
  });

  test("no port, no bindings", () => {
    const body = containerCreateBody({ ...spec, publishPort: undefined });
    expect(body.ExposedPorts).toBeUndefined();
    expect(body.HostConfig.PortBindings).toBeUndefined();
  });

  test("env, labels, cmd, user, tmpfs, binds, read-only rootfs", () => {
    const body = containerCreateBody({
      ...spec,
      cmd: ["node", "server.js"],
      user: "1000:1000",
      readOnlyRootfs: true,
      tmpfs: { "/tmp": "rw,size=64m" },
      binds: ["/var/lib/kiln/state/web:/data"],
    });
    expect(body.Image).toBe("kiln/app-web:b1");
    expect(body.Env).toEqual(["PORT=3000", "NODE_ENV=production"]);
    expect(body.Labels).toEqual({ "kiln.managed": "true", "kiln.app": "web" });
    expect(body.Cmd).toEqual(["node", "server.js"]);
    expect(body.User).toBe("1000:1000");
    expect(body.HostConfig.ReadonlyRootfs).toBe(true);
    expect(body.HostConfig.Tmpfs).toEqual({ "/tmp": "rw,size=64m" });
    expect(body.HostConfig.Binds).toEqual(["/var/lib/kiln/state/web:/data"]);
  });

  test("an env value containing '=' stays whole", () => {
    expect(containerCreateBody({ ...spec, env: { URL: "a=b&c=d" } }).Env).toEqual(["URL=a=b&c=d"]);
  });
});

test("bind mounts carry their propagation; a healthcheck is in nanoseconds", () => {
  const body = containerCreateBody({
    name: "m",
    image: "img",
    labels: {},
    env: {},
    network: "kiln",
    memoryBytes: 1,
    nanoCpus: 1,
    pidsLimit: 16,
    restartPolicy: "no",
    mounts: [
      { source: "/slots/m/state", target: "/state", readOnly: false, propagation: "rslave" },
      { source: "/slots/m/secrets", target: "/secrets", readOnly: true },
    ],
    healthcheck: { test: ["CMD", "true"], intervalMs: 1000, timeoutMs: 500, retries: 3, startPeriodMs: 0 },
  });
  expect(body.HostConfig.Mounts).toEqual([
    { Type: "bind", Source: "/slots/m/state", Target: "/state", ReadOnly: false, BindOptions: { Propagation: "rslave" } },
    { Type: "bind", Source: "/slots/m/secrets", Target: "/secrets", ReadOnly: true },
  ]);
  expect(body.Healthcheck).toEqual({ Test: ["CMD", "true"], Interval: 1_000_000_000, Timeout: 500_000_000, Retries: 3, StartPeriod: 0 });
});

describe("network bodies", () => {
  const labels = { "kiln.managed": "true" };

  test("Kiln's own network: a bridge with inter-container traffic off", () => {
    expect(networkCreateBody("kiln", labels, "isolated")).toEqual({
      Name: "kiln",
      Driver: "bridge",
      CheckDuplicate: true,
      Labels: { "kiln.managed": "true" },
      Options: { "com.docker.network.bridge.enable_icc": "false" },
    });
  });

  test("a shared network: inter-container traffic on", () => {
    expect(networkCreateBody("shared-db", { ...labels, "kiln.shared-network": "shared-db" }, "shared")).toEqual({
      Name: "shared-db",
      Driver: "bridge",
      CheckDuplicate: true,
      Labels: { "kiln.managed": "true", "kiln.shared-network": "shared-db" },
      Options: { "com.docker.network.bridge.enable_icc": "true" },
    });
  });

  test("isolated only when a bridge says enable_icc=false", () => {
    expect(isIsolatedNetwork({ Driver: "bridge", Options: { [ICC_OPTION]: "false" } })).toBe(true);
    expect(isIsolatedNetwork({ Driver: "bridge", Options: {} })).toBe(false);
    expect(isIsolatedNetwork({ Driver: "bridge", Options: null })).toBe(false);
    expect(isIsolatedNetwork({ Driver: "bridge", Options: { [ICC_OPTION]: "true" } })).toBe(false);
    expect(isIsolatedNetwork({ Driver: "macvlan", Options: { [ICC_OPTION]: "false" } })).toBe(false);
  });

  test("joining a network: the container and its aliases", () => {
    expect(networkConnectBody("c1", ["web"])).toEqual({ Container: "c1", EndpointConfig: { Aliases: ["web"] } });
  });
});

describe("named volumes and entrypoint", () => {
  test("volumes become read-write Mounts of Type volume, after any bind mounts", () => {
    const body = containerCreateBody({
      ...spec,
      mounts: [{ source: "/slots/m/secrets", target: "/secrets", readOnly: true }],
      volumes: [
        { name: "kiln-app-web-data", target: "/data" },
        { name: "kiln-app-web-cache", target: "/cache" },
      ],
    });
    expect(body.HostConfig.Mounts).toEqual([
      { Type: "bind", Source: "/slots/m/secrets", Target: "/secrets", ReadOnly: true },
      { Type: "volume", Source: "kiln-app-web-data", Target: "/data", ReadOnly: false },
      { Type: "volume", Source: "kiln-app-web-cache", Target: "/cache", ReadOnly: false },
    ]);
    expect(body.HostConfig.Binds).toBeUndefined();
  });

  test("no volumes, no Mounts", () => {
    expect(containerCreateBody({ ...spec, volumes: [] }).HostConfig.Mounts).toBeUndefined();
    expect(containerCreateBody(spec).HostConfig.Mounts).toBeUndefined();
  });

  test("a volume name Docker would take as a path is refused", () => {
    expect(() => containerCreateBody({ ...spec, volumes: [{ name: "/etc", target: "/data" }] })).toThrow(KilnError);
  });

  test("entrypoint overrides the image's; [] is sent as is (clears it); absent leaves it", () => {
    expect(containerCreateBody({ ...spec, entrypoint: ["/bin/sh", "-c"], cmd: ["echo hi"] })).toMatchObject({
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ["echo hi"],
    });
    expect(containerCreateBody({ ...spec, entrypoint: [] }).Entrypoint).toEqual([]);
    expect("Entrypoint" in containerCreateBody(spec)).toBe(false);
  });
});

describe("volume names and bodies", () => {
  test("valid names pass through", () => {
    for (const name of ["a", "0", "kiln-app-web_data.1", "A".repeat(128)]) expect(checkVolumeName(name)).toBe(name);
  });

  test("invalid names are a bad_request that says what a name may be", () => {
    for (const name of ["", "-a", ".a", "_a", "a/b", "../x", "/data", "a b", "a:b", "é", "A".repeat(129)]) {
      let err: unknown;
      try {
        checkVolumeName(name);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).kind).toBe("bad_request");
      expect((err as KilnError).hint).toContain("starts with a letter or digit");
    }
  });

  test("create body: a local volume with its labels", () => {
    const labels = { "kiln.managed": "true", "kiln.app": "web" };
    const body = volumeCreateBody("kiln-app-web-data", labels);
    expect(body).toEqual({ Name: "kiln-app-web-data", Driver: "local", Labels: labels });
    expect(body.Labels).not.toBe(labels);
    expect(() => volumeCreateBody("a/b", labels)).toThrow(KilnError);
  });
});
