/** An app route with several upstreams against a real Caddy: round robin, failover, active health. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Backend, type CaddyFixture, backend, startCaddy } from "./caddy-fixture.ts";

let caddy: CaddyFixture;
const backends: Backend[] = [];
const start = (label: string, healthStatus?: () => number) => {
  const b = backend(label, { healthStatus });
  backends.push(b);
  return b;
};

beforeAll(async () => {
  caddy = await startCaddy();
});
afterAll(async () => {
  for (const b of backends) b.server.stop(true);
  await caddy?.stop();
});

async function burst(name: string, n: number): Promise<{ labels: string[]; failures: string[] }> {
  const labels: string[] = [];
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const res = await caddy.request(name, `/r/${i}`);
      const body = await res.text();
      if (res.status === 200) labels.push(res.headers.get("x-backend") ?? body);
      else failures.push(`#${i}: ${res.status} ${body.slice(0, 80)}`);
    } catch (err) {
      failures.push(`#${i}: ${String(err)}`);
    }
  }
  return { labels, failures };
}

test("two upstreams both serve, round robin; with one stopped GETs keep succeeding", async () => {
  const [a, b] = [start("one"), start("two")];
  await caddy.table.upsert({ deploymentId: "rr000001", name: "rr", upstreams: [a.address, b.address] });
  const first = await burst("rr", 20);
  expect(first.failures).toEqual([]);
  // Strict alternation: round robin, not random.
  expect(first.labels.filter((l, i) => i > 0 && l === first.labels[i - 1])).toEqual([]);
  expect(new Set(first.labels)).toEqual(new Set(["one", "two"]));

  b.server.stop(true);
  const after = await burst("rr", 60);
  expect(after.failures).toEqual([]);
  expect(new Set(after.labels)).toEqual(new Set(["one"]));
  // The /d/<id> path route fails over the same way.
  const res = await fetch(`http://127.0.0.1:${caddy.publicPort}/d/rr000001/x`, { headers: { host: "localhost" } });
  expect(res.status).toBe(200);
});

test("with health set, an upstream answering 500 on the health path gets no traffic after the interval", async () => {
  let sickStatus = 200;
  const [well, sick] = [start("well"), start("sick", () => sickStatus)];
  await caddy.table.upsert({
    deploymentId: "hc000001",
    name: "hc",
    upstreams: [well.address, sick.address],
    health: { path: "/healthz", intervalMs: 300, timeoutMs: 200, expectStatus: 200 },
  });
  const before = await burst("hc", 10);
  expect(before.failures).toEqual([]);
  expect(new Set(before.labels)).toEqual(new Set(["well", "sick"]));

  sickStatus = 500;
  await Bun.sleep(3 * 300 + 200); // a few intervals
  const servedBefore = sick.served;
  const after = await burst("hc", 40);
  expect(after.failures).toEqual([]);
  expect(new Set(after.labels)).toEqual(new Set(["well"]));
  expect(sick.served).toBe(servedBefore);

  // And back in once it answers 200 again.
  sickStatus = 200;
  await Bun.sleep(3 * 300 + 200);
  expect(new Set((await burst("hc", 10)).labels)).toEqual(new Set(["well", "sick"]));
});

test("a GET whose upstream accepted the connection but broke the round trip is retried on another; a POST is not", async () => {
  const good = start("good");
  // Accepts connections, reads the request, closes without answering.
  const broken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s) => void s.end() } });
  try {
    await caddy.table.upsert({ deploymentId: "rt000001", name: "rt", upstreams: [good.address, `127.0.0.1:${broken.port}`] });
    const posts: number[] = [];
    for (let i = 0; i < 4 && !posts.includes(502); i++) posts.push((await caddy.request("rt", "/p", { method: "POST", body: "x" })).status);
    expect(posts).toContain(502);
    await Bun.sleep(3200); // the broken upstream's passive-health timeout, so GETs meet it again
    const gets = await burst("rt", 20);
    expect(gets.failures).toEqual([]);
    expect(new Set(gets.labels)).toEqual(new Set(["good"]));
  } finally {
    broken.stop(true);
  }
});
