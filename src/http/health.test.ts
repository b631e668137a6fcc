import { describe, expect, test } from "bun:test";
import { HealthCheck, explainDown, healthReport, probeWithin, type Dependency, type Probe } from "./health.ts";

const SETTING = { dockerSocket: "/run/docker.sock", caddyAdmin: "http://127.0.0.1:2019", manageCaddy: true, tenantResolver: "127.0.0.1:5353" };
const explain = (d: Dependency) => explainDown(d, SETTING);

/** A probe whose answers the test hands out one run at a time; it counts its calls. */
function heldProbe(): Probe & { calls: number; answer(ok: boolean): void } {
  const pending: ((ok: boolean) => void)[] = [];
  const probe = () => {
    probe.calls++;
    return new Promise<boolean>((resolve) => pending.push(resolve));
  };
  probe.calls = 0;
  probe.answer = (ok: boolean) => pending.shift()!(ok);
  return probe;
}

const up: Probe = async () => true;

describe("healthReport", () => {
  test("ok only when all three answer; no down list then", () => {
    expect(healthReport({ docker: true, caddy: true, tenantResolver: true }, explain)).toEqual({ ok: true, docker: true, caddy: true, tenantResolver: true, down: [] });
  });

  test("each dependency down is named with what is down and what to do, in a fixed order", () => {
    expect(healthReport({ docker: false, caddy: true, tenantResolver: false }, explain)).toEqual({
      ok: false,
      docker: false,
      caddy: true,
      tenantResolver: false,
      down: [
        {
          dependency: "docker",
          message: "the Docker engine does not answer on /run/docker.sock",
          hint: "start dockerd (e.g. `systemctl start docker`), or set KILN_DOCKER_SOCKET to the socket it listens on",
        },
        {
          dependency: "tenantResolver",
          message: "the tenant resolver does not answer on udp 127.0.0.1:5353",
          hint: "Kiln restarts it within a second; if this lasts, check that the UDP port KILN_TENANT_DNS_PORT is free (0 picks a free one)",
        },
      ],
    });
  });

  test("Caddy's hint depends on whether Kiln runs it", () => {
    expect(explainDown("caddy", SETTING).hint).toContain("KILN_CADDY_ADMIN");
    expect(explainDown("caddy", { ...SETTING, manageCaddy: false })).toEqual({
      message: "Caddy's admin API does not answer at http://127.0.0.1:2019",
      hint: "start your Caddy with its admin API at KILN_CADDY_ADMIN, or set KILN_MANAGE_CADDY=1 to let Kiln run one",
    });
  });
});

describe("probeWithin", () => {
  test("true only for a probe resolving true; false, a rejection or a throw are down", async () => {
    expect(await probeWithin(up, 1000)).toBe(true);
    expect(await probeWithin(async () => false, 1000)).toBe(false);
    expect(await probeWithin(async () => Promise.reject(new Error("ECONNREFUSED")), 1000)).toBe(false);
    expect(
      await probeWithin(() => {
        throw new Error("sync");
      }, 1000),
    ).toBe(false);
  });

  test("a probe past its deadline is down and its signal is aborted, even if it ignores the signal", async () => {
    let seen: AbortSignal | null = null;
    const hangs: Probe = (signal) => {
      seen = signal;
      return new Promise<boolean>(() => {});
    };
    expect(await probeWithin(hangs, 10)).toBe(false);
    expect(seen!.aborted).toBe(true);
  });
});

describe("HealthCheck", () => {
  function check(cacheMs = 1000) {
    let clock = 0;
    const probes = { docker: heldProbe(), caddy: heldProbe(), tenantResolver: heldProbe() };
    const health = new HealthCheck({ probes, explain, cacheMs, timeoutMs: 60_000, now: () => clock });
    const answerAll = (docker: boolean, caddy = true, tenantResolver = true) => {
      probes.docker.answer(docker);
      probes.caddy.answer(caddy);
      probes.tenantResolver.answer(tenantResolver);
    };
    return { health, probes, answerAll, advance: (ms: number) => (clock += ms) };
  }

  test("the three probes run at once: each is asked before any answers", async () => {
    const { health, probes, answerAll } = check();
    const report = health.report();
    expect([probes.docker.calls, probes.caddy.calls, probes.tenantResolver.calls]).toEqual([1, 1, 1]);
    answerAll(true, false);
    expect(await report).toMatchObject({ ok: false, docker: true, caddy: false, tenantResolver: true, down: [{ dependency: "caddy" }] });
  });

  test("callers arriving while probes run share that run", async () => {
    const { health, probes, answerAll } = check();
    const first = health.report();
    const second = health.report();
    expect(second).toBe(first);
    answerAll(true);
    expect((await second).ok).toBe(true);
    expect([probes.docker.calls, probes.caddy.calls, probes.tenantResolver.calls]).toEqual([1, 1, 1]);
  });

  test("a report is reused within cacheMs of its completion, then probed again", async () => {
    const { health, probes, answerAll, advance } = check(1000);
    const first = health.report();
    answerAll(true);
    expect((await first).ok).toBe(true);

    advance(999);
    expect(await health.report()).toBe(await first);
    expect(probes.docker.calls).toBe(1);

    advance(1);
    const next = health.report();
    expect(probes.docker.calls).toBe(2);
    answerAll(false);
    expect(await next).toMatchObject({ ok: false, docker: false, down: [{ dependency: "docker" }] });
  });
});
