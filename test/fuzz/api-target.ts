/**
 * The API fuzz targets, against a running Kiln (test/helpers/kiln.ts), always with the valid token:
 *  - routes: random requests to every route of /api/v1/openapi.json (api-cases.ts). A case passes
 *    when the answer is not a 5xx, every 4xx has the body {error: {kind, message}}, and no answer
 *    carries the token. A deployment accepted by chance is deleted at once.
 *  - uploads: mutated tarballs (tar-cases.ts) to POST /deployments/upload. A case passes when the
 *    answer is a 4xx with a message, or a 202 whose build then fails with a message of its own
 *    (never "internal error") or gets past unpacking; the deployment is deleted afterwards.
 * Both end with GET /health answering 200.
 */
import type { TestKiln } from "../helpers/kiln.ts";
import { type Operation, apiRequest, operationsOf } from "./api-cases.ts";
import { caseRng } from "./prng.ts";
import { rawRequest } from "./raw-http.ts";
import { FuzzReport, onlyCase } from "./report.ts";
import { tarCase } from "./tar-cases.ts";

/** Why a 4xx body is not {error: {kind, message}}, or null. */
function errorShapeProblem(body: string): string | null {
  let parsed: any;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `a 4xx body that is not JSON: ${JSON.stringify(body.slice(0, 200))}`;
  }
  const e = parsed?.error;
  if (typeof e?.kind !== "string" || typeof e?.message !== "string" || e.message.trim() === "") return `a 4xx body without {error: {kind, message}}: ${body.slice(0, 300)}`;
  return null;
}

export async function apiOperations(kiln: TestKiln): Promise<Operation[]> {
  const res = await fetch(`${kiln.apiUrl}/api/v1/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${res.status}`);
  return operationsOf(await res.json());
}

export async function expectHealthy(kiln: TestKiln): Promise<void> {
  const res = await fetch(`${kiln.apiUrl}/api/v1/health`);
  if (res.status !== 200) throw new Error(`GET /health answered ${res.status} after the fuzzing: ${await res.text()}`);
}

export async function runRouteFuzz(kiln: TestKiln, ops: Operation[], seed: number, cases: number): Promise<FuzzReport> {
  const report = new FuzzReport("API routes", seed, cases);
  const port = Number(new URL(kiln.apiUrl).port);
  const targets = ops.filter((op) => !op.binaryBody); // uploads have a target of their own
  const only = onlyCase();
  for (let i = 0; i < cases; i++) {
    if (only !== undefined && i !== only) continue;
    const rng = caseRng(seed, i);
    const req = apiRequest(rng, targets[i % targets.length]!, kiln.token);
    await report.run(i, req.label, async () => {
      const answer = await rawRequest(port, { ...req, path: `/api/v1${req.path}` });
      if (answer.body.includes(kiln.token)) throw new Error("the answer carries the API token");
      if (answer.status >= 500) throw new Error(`answered ${answer.status}: ${answer.body.slice(0, 500)}`);
      if (answer.status >= 400) {
        const problem = errorShapeProblem(answer.body);
        if (problem) throw new Error(`answered ${answer.status}: ${problem}`);
      }
      if (answer.status === 202 && req.method === "POST" && req.path.startsWith("/deployments")) {
        const id = JSON.parse(answer.body).id as string;
        const del = await kiln.api(`/deployments/${id}`, { method: "DELETE" });
        if (del.status !== 204) throw new Error(`accepted deployment ${id} could not be deleted: ${del.status}`);
      }
      return String(answer.status);
    });
  }
  return report;
}

const ENDED = ["failed", "running", "stopped"];

/** Waits until the build has unpacked the upload (or ended); returns the failure reason, if any. */
async function afterUnpacking(kiln: TestKiln, id: string): Promise<{ status: string; reason: string | null; unpacked: boolean }> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const d = (await (await kiln.api(`/deployments/${id}`)).json()) as any;
    const source = d.currentBuild?.steps?.find((s: any) => s.name === "source");
    if (ENDED.includes(d.status) || source?.ok === true) return { status: d.status, reason: d.failureReason, unpacked: source?.ok === true };
    await Bun.sleep(25);
  }
  throw new Error(`deployment ${id} neither unpacked its upload nor ended within 60 s`);
}

export async function runUploadFuzz(kiln: TestKiln, seed: number, cases: number): Promise<FuzzReport> {
  const report = new FuzzReport("API uploads", seed, cases);
  const only = onlyCase();
  for (let i = 0; i < cases; i++) {
    if (only !== undefined && i !== only) continue;
    const c = tarCase(caseRng(seed, i), "/tmp");
    await report.run(i, c.label, async () => {
      const res = await kiln.api(`/deployments/upload?name=fuzz-${i}`, { method: "POST", body: c.bytes as Uint8Array<ArrayBuffer>, headers: { "content-type": "application/octet-stream" } });
      const body = await res.text();
      if (res.status >= 500) throw new Error(`answered ${res.status}: ${body.slice(0, 500)}`);
      if (res.status >= 400) {
        const problem = errorShapeProblem(body);
        if (problem) throw new Error(problem);
        return String(res.status);
      }
      if (res.status !== 202) throw new Error(`answered ${res.status}, not 202 or a 4xx`);
      const id = JSON.parse(body).id as string;
      try {
        const end = await afterUnpacking(kiln, id);
        if (end.status === "failed" && (!end.reason || /internal error/i.test(end.reason))) throw new Error(`the build failed without a message of its own: ${end.reason}`);
        return end.unpacked ? "202 unpacked" : `202 ${end.status}`;
      } finally {
        const del = await kiln.api(`/deployments/${id}`, { method: "DELETE" });
        if (del.status !== 204) throw new Error(`deployment ${id} could not be deleted: ${del.status}`);
      }
    });
  }
  return report;
}
