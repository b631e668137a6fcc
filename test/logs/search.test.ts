/**
 * The log search against a real Kiln: GET /api/v1/deployments/:id/logs answers JSON pages from the
 * stored log (newest first, a cursor for older lines), every bad parameter is a 400 naming it, no
 * token is a 401, the route is in the OpenAPI document, and a WebSocket on the same path still streams.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLine } from "../../src/core/logs.ts";
import { deploymentStream } from "../../src/logs/streams.ts";
import { failedDeployment, startTestKiln, type TestKiln } from "../helpers/kiln.ts";

let kiln: TestKiln;
let id: string;
const tmp = mkdtempSync(join(tmpdir(), "kiln-log-search-"));
type Page = { lines: LogLine[]; next: number | null; scanned: number };

beforeAll(async () => {
  kiln = await startTestKiln();
  // A deployment whose build fails at once (nothing to build): a log stream to publish into.
  id = await failedDeployment(kiln, "log-search");
  for (let i = 1; i <= 30; i++) kiln.bus.publish(deploymentStream(id), "runtime", i % 10 === 0 ? `GET /pay ${i} Timeout after 30s` : `GET /ok ${i} 200`);
  await kiln.bus.flush();
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

const search = async (query: string): Promise<Page> => {
  const res = await kiln.api(`/deployments/${id}/logs?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
};

async function errorOf(res: Response, status: number): Promise<{ kind: string; message: string; hint?: string }> {
  const text = await res.text();
  expect(`${res.status} ${text}`).toStartWith(`${status} `);
  return (JSON.parse(text) as { error: { kind: string; message: string; hint?: string } }).error;
}

describe("GET /deployments/:id/logs (search)", () => {
  test("q matches case-insensitively, newest first; cursor pages to the end", async () => {
    const first = await search("q=timeout&stream=runtime&limit=2");
    expect(first.lines.map((l) => l.text)).toEqual(["GET /pay 30 Timeout after 30s", "GET /pay 20 Timeout after 30s"]);
    expect(first.next).toBe(first.lines[1]!.seq);
    const second = await search(`q=TIMEOUT&stream=runtime&limit=2&cursor=${first.next}`);
    expect(second.lines.map((l) => l.text)).toEqual(["GET /pay 10 Timeout after 30s"]);
    expect(second.next).toBeNull();
  });

  test("since/until by seq and by time, and the system stream holds the failed build's lines", async () => {
    const all = await search("limit=1000");
    const newest = all.lines[0]!;
    expect(newest.text).toBe("GET /pay 30 Timeout after 30s");
    const bySeq = await search(`since=${newest.seq - 2}&until=${newest.seq - 1}`);
    expect(bySeq.lines.map((l) => l.seq)).toEqual([newest.seq - 1, newest.seq - 2]);
    const byTime = await search(`since=${new Date(newest.ts).toISOString()}&until=${new Date(newest.ts).toISOString()}&stream=runtime`);
    expect(byTime.lines.map((l) => l.seq)).toContain(newest.seq);
    expect(byTime.lines.every((l) => l.ts === newest.ts)).toBe(true);
    const system = await search("stream=system");
    expect(system.lines.length).toBeGreaterThan(0);
    expect(system.lines.every((l) => l.stream === "system")).toBe(true);
  });

  test("each bad parameter is a 400 saying what to fix", async () => {
    const cases: Array<[string, string]> = [
      ["limit=0", "limit must be an integer from 1 to 1000"],
      ["limit=5000", "limit must be an integer from 1 to 1000"],
      ["since=last-week", 'since "last-week" is neither a seq nor a time'],
      ["until=2026-99-99", 'until "2026-99-99" is neither a seq nor a time'],
      ["stream=stdout", 'unknown stream "stdout"'],
      ["cursor=abc", "cursor must be"],
      [`q=${"x".repeat(300)}`, "q is 300 characters long"],
      ["grep=x", 'unknown parameter "grep"'],
    ];
    for (const [query, message] of cases) {
      const err = await errorOf(await kiln.api(`/deployments/${id}/logs?${query}`), 400);
      expect(err.kind).toBe("bad_request");
      expect(err.message).toContain(message);
      expect(err.hint).toEqual(expect.any(String));
    }
  });

  test("an unknown deployment is a 404; no token or a wrong one is a 401", async () => {
    expect((await errorOf(await kiln.api("/deployments/nosuchapp/logs"), 404)).kind).toBe("not_found");
    const url = `${kiln.apiUrl}/api/v1/deployments/${id}/logs?q=timeout`;
    expect((await errorOf(await fetch(url), 401)).message).toBe("missing API token");
    expect((await errorOf(await fetch(url, { headers: { authorization: "Bearer wrong" } }), 401)).message).toBe("the API token is wrong");
    // The WebSocket's ?token= is not accepted by a plain GET.
    expect((await errorOf(await fetch(`${url}&token=${kiln.token}`), 401)).kind).toBe("unauthorized");
  });

  test("the route is in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${kiln.apiUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, any>; components: { schemas: Record<string, unknown> } };
    const op = doc.paths["/deployments/{id}/logs"]?.get;
    expect(op).toBeDefined();
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(["cursor", "id", "limit", "q", "since", "stream", "until"]);
    expect(Object.keys(op.responses).sort()).toEqual(["200", "400", "401", "404"]);
    expect(doc.components.schemas.LogSearchPage).toBeDefined();
  });

  test("a WebSocket on the same path still streams the log", async () => {
    const lines = await kiln.logs(id, { since: 1, until: (ls) => ls.some((l) => l.text === "GET /pay 30 Timeout after 30s"), timeoutMs: 10_000 });
    expect(lines[0]!.seq).toBe(1);
  });
});
