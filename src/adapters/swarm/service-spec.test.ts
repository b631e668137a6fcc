import { expect, test } from "bun:test";
import { DEFAULT_SETTINGS, type AppSettings } from "../../core/settings.ts";
import { Secret } from "../../core/secret.ts";
import { healthcheckTest, passingStatus, serviceName, serviceSpec, shellQuote, swarmRestart, type ServiceInput } from "./service-spec.ts";

const NS = 1_000_000;

function input(settings: Partial<AppSettings> = {}, extra: Partial<ServiceInput> = {}): ServiceInput {
  return {
    name: "web",
    deploymentId: "dep123",
    buildId: "b1",
    releaseId: "r1",
    image: "127.0.0.1:5000/kiln/app-web:b1",
    env: { API_KEY: new Secret("s3cret") },
    port: 3000,
    settings: { ...DEFAULT_SETTINGS, ...settings },
    limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 1e9, pids: 256 },
    network: "kiln-swarm-dep123",
    instanceId: "inst1",
    readyTimeoutMs: 60_000,
    ...extra,
  };
}

test("a release is a replicated dnsrr service: start-first updates that roll back, kiln labels, hardening, limits", () => {
  const spec = serviceSpec(input({ replicas: 3 }));
  const { Test, ...timing } = spec.TaskTemplate.ContainerSpec.Healthcheck;
  expect(Test[0]).toBe("CMD-SHELL");
  expect({ ...spec, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: { ...spec.TaskTemplate.ContainerSpec, Healthcheck: timing } } }).toEqual({
    Name: "kiln-web-dep123",
    Labels: {
      "kiln.managed": "true",
      "kiln.instance": "inst1",
      "kiln.kind": "app-service",
      "kiln.deployment": "dep123",
      "kiln.build": "b1",
      "kiln.app-port": "3000",
      "kiln.release": "r1",
    },
    TaskTemplate: {
      ContainerSpec: {
        Image: "127.0.0.1:5000/kiln/app-web:b1",
        Labels: { "kiln.managed": "true", "kiln.instance": "inst1", "kiln.kind": "swarm-task", "kiln.swarm.deployment": "dep123", "kiln.build": "b1" },
        Env: ["API_KEY=s3cret", "PORT=3000"],
        Init: true,
        ReadOnly: false,
        CapabilityDrop: ["ALL"],
        StopGracePeriod: 10_000 * NS,
        Healthcheck: { Interval: 1_000 * NS, Timeout: 2_000 * NS, Retries: 3, StartPeriod: 60_000 * NS } as never,
      },
      Resources: { Limits: { NanoCPUs: 1e9, MemoryBytes: 512 * 1024 * 1024, Pids: 256 } },
      RestartPolicy: { Condition: "any", Delay: 1_000 * NS, MaxAttempts: 0, Window: 0 },
      Placement: { Preferences: [{ Spread: { SpreadDescriptor: "node.id" } }] },
      Networks: [{ Target: "kiln-swarm-dep123", Aliases: ["web"] }],
      LogDriver: { Name: "json-file", Options: { "max-size": "200m", "max-file": "2" } },
      ForceUpdate: 0,
    },
    Mode: { Replicated: { Replicas: 3 } },
    UpdateConfig: { Parallelism: 1, Delay: 0, FailureAction: "rollback", Monitor: 5_000 * NS, MaxFailureRatio: 0, Order: "start-first" },
    RollbackConfig: { Parallelism: 1, Delay: 0, FailureAction: "pause", Monitor: 5_000 * NS, MaxFailureRatio: 0, Order: "start-first" },
    EndpointSpec: { Mode: "dnsrr" },
  });
});

test("settings override the limits; a start command runs through /bin/sh -c; force update is carried", () => {
  const spec = serviceSpec(input({ memoryMb: 128, cpus: 0.5, startCommand: "node server.js --fast" }, { forceUpdate: 4 }));
  expect(spec.TaskTemplate.Resources.Limits).toEqual({ NanoCPUs: 500_000_000, MemoryBytes: 128 * 1024 * 1024, Pids: 256 });
  expect(spec.TaskTemplate.ContainerSpec.Command).toEqual(["/bin/sh", "-c"]);
  expect(spec.TaskTemplate.ContainerSpec.Args).toEqual(["node server.js --fast"]);
  expect(spec.TaskTemplate.ForceUpdate).toBe(4);
});

test("an app health check sets the probe's timing; without one the start period is the ready timeout", () => {
  const hc = { path: "/healthz", expectStatus: 204, timeoutMs: 3_000, intervalMs: 500, startPeriodMs: 9_000 };
  const spec = serviceSpec(input({ healthcheck: hc }));
  const { Test: _t, ...timing } = spec.TaskTemplate.ContainerSpec.Healthcheck;
  expect(timing).toEqual({ Interval: 500 * NS, Timeout: 3_000 * NS, Retries: 3, StartPeriod: 9_000 * NS });
});

test("restart policies map to Swarm's conditions", () => {
  expect(swarmRestart("always").Condition).toBe("any");
  expect(swarmRestart("on-failure").Condition).toBe("on-failure");
  expect(swarmRestart("never").Condition).toBe("none");
});

test("passing statuses: the one asked, else 2xx/3xx with a health path, else any answer", () => {
  expect(passingStatus({ healthcheck: null })).toBe("[1-5][0-9][0-9]");
  expect(passingStatus({ healthcheck: { path: "/h", expectStatus: null, timeoutMs: 1, intervalMs: 1, startPeriodMs: 1 } })).toBe("[23][0-9][0-9]");
  expect(passingStatus({ healthcheck: { path: "/h", expectStatus: 418, timeoutMs: 1, intervalMs: 1, startPeriodMs: 1 } })).toBe("418");
});

test("the probe quotes the URL for the shell", () => {
  expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  const [, script] = healthcheckTest({ healthcheck: { path: "/it's", expectStatus: null, timeoutMs: 2000, intervalMs: 1000, startPeriodMs: 1000 } }, 8080);
  expect(script!.split("\n")[0]).toBe(`u='http://127.0.0.1:8080/it'\\''s'`);
});

test("the probe passes or fails by the status a real shell gets from a real server", async () => {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response("x", { status: new URL(req.url).pathname === "/ok" ? 200 : 503 }) });
  try {
    // Async: the server answers from this process's event loop.
    const run = (path: string) => {
      const [, script] = healthcheckTest({ healthcheck: { path, expectStatus: null, timeoutMs: 2000, intervalMs: 1000, startPeriodMs: 1000 } }, server.port!);
      return Bun.spawn(["/bin/sh", "-c", script!], { stdout: "ignore", stderr: "ignore" }).exited;
    };
    expect(await run("/ok")).toBe(0);
    expect(await run("/down")).toBe(1);
  } finally {
    server.stop(true);
  }
});

test("service names are readable and unique per deployment", () => {
  expect(serviceName("web", "abc123")).toBe("kiln-web-abc123");
});
