import { describe, expect, test } from "bun:test";
import { BuildTraceDecoder, decodeStatus, describeFailedStep } from "./buildkit-trace.ts";

/** Real `moby.buildkit.trace` aux payloads captured from this engine (Docker 20.10, API 1.41). */
async function captured(name: string): Promise<string[]> {
  const text = await Bun.file(new URL(`./testdata/${name}`, import.meta.url)).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id?: string; aux?: unknown })
    .filter((m) => m.id === "moby.buildkit.trace" && typeof m.aux === "string")
    .map((m) => m.aux as string);
}

function decodeAll(auxes: string[]) {
  const lines: string[] = [];
  const decoder = new BuildTraceDecoder((l) => lines.push(l));
  for (const aux of auxes) decoder.push(aux);
  decoder.flush();
  return { lines, failure: decoder.failure(), cachedSteps: decoder.cachedSteps() };
}

// Tiny protobuf encoder for hand-made cases.
const enc = new TextEncoder();
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const bytesField = (no: number, v: Uint8Array | string) => {
  const b = typeof v === "string" ? enc.encode(v) : v;
  return [...varint(no * 8 + 2), ...varint(b.length), ...b];
};
const varintField = (no: number, v: number) => [...varint(no * 8), ...varint(v)];
const msg = (...parts: number[][]) => new Uint8Array(parts.flat());
const b64 = (m: Uint8Array) => Buffer.from(m).toString("base64");
const ts = (seconds: number, nanos = 0) => msg(varintField(1, seconds), varintField(2, nanos));

describe("decodeStatus", () => {
  test("decodes a captured vertex: digest, name, started timestamp", () => {
    // The first message of a real build: "[internal] load remote build context" started.
    const aux =
      "Cn0KR3NoYTI1Njo0MDVjNDFmYmQzNGFlNDEzZjU2ZWNjZjZjMzU4MGI3NzlkNTAzZWFhYWNhZTZmY2NiYjU3NTk2YjEzZjc2NTUzGiRbaW50ZXJuYWxdIGxvYWQgcmVtb3RlIGJ1aWxkIGNvbnRleHQqDAj0xZHYBhC8vvbhAg==";
    const status = decodeStatus(Buffer.from(aux, "base64"));
    expect(status.vertexes).toHaveLength(1);
    const v = status.vertexes[0]!;
    expect(v.digest).toBe("sha256:405c41fbd34ae413f56eccf6c3580b779d503eaaacae6fccbb57596b13f76553");
    expect(v.name).toBe("[internal] load remote build context");
    expect(v.cached).toBe(false);
    expect(v.startedMs).toBeGreaterThan(Date.UTC(2020, 0, 1));
    expect(v.completedMs).toBeUndefined();
  });

  test("truncated input throws instead of inventing fields", () => {
    const aux = Buffer.from(
      "Cn0KR3NoYTI1Njo0MDVjNDFmYmQzNGFlNDEzZjU2ZWNjZjZjMzU4MGI3NzlkNTAzZWFhYWNhZTZmY2NiYjU3NTk2YjEzZjc2NTUz",
      "base64",
    );
    expect(() => decodeStatus(aux)).toThrow(/truncated/);
  });
});

describe("BuildTraceDecoder on a captured successful build", () => {
  test("vertex names, CACHED, RUN output (stdout and stderr), DONE", async () => {
    const { lines, failure, cachedSteps } = decodeAll(await captured("build-ok.jsonl"));
    expect(failure).toBeNull();
    expect(lines).toContain("[1/3] FROM docker.io/kiln/test-node:20 CACHED");
    expect(cachedSteps).toEqual(lines.filter((l) => l.endsWith(" CACHED")).map((l) => l.slice(0, -" CACHED".length)));
    expect(cachedSteps).toContain("[1/3] FROM docker.io/kiln/test-node:20");
    expect(cachedSteps).not.toContain("[2/3] RUN echo hello-out && echo hello-err >&2");
    const run = lines.indexOf("[2/3] RUN echo hello-out && echo hello-err >&2");
    expect(run).toBeGreaterThan(-1);
    expect(lines.slice(run + 1, run + 3)).toEqual(["hello-out", "hello-err"]);
    expect(lines).toContain('[3/3] RUN node -e "console.log(1+1)"');
    expect(lines).toContain("2");
    expect(lines.some((l) => /^\[3\/3\] RUN node .* DONE \d+\.\ds$/.test(l))).toBe(true);
    // each vertex is announced once although the engine sends it several times
    expect(lines.filter((l) => l === "[internal] load remote build context")).toHaveLength(1);
  });
});

describe("BuildTraceDecoder on a captured failing build", () => {
  test("reports the failing step, its error and its last output", async () => {
    const { lines, failure } = decodeAll(await captured("build-fail.jsonl"));
    expect(failure).toEqual({
      step: "[3/3] RUN echo step3 && exit 3",
      error: "executor failed running [/bin/sh -c echo step3 && exit 3]: exit code: 3",
      tail: ["step3"],
    });
    expect(lines.at(-1)).toBe(
      "ERROR [3/3] RUN echo step3 && exit 3: executor failed running [/bin/sh -c echo step3 && exit 3]: exit code: 3",
    );
    expect(lines).toContain("about-to-fail");
  });
});

describe("BuildTraceDecoder on hand-made messages", () => {
  const digest = "sha256:abc";
  const vertex = (...extra: number[][]) => bytesField(1, msg(bytesField(1, digest), bytesField(3, "[2/5] RUN npm ci"), ...extra));
  const log = (text: string, stream = 1) =>
    bytesField(3, msg(bytesField(1, digest), bytesField(2, ts(1)), varintField(3, stream), bytesField(4, text)));

  test("a line split across log messages is joined; the rest is flushed at completion", () => {
    const lines: string[] = [];
    const d = new BuildTraceDecoder((l) => lines.push(l));
    d.push(b64(msg(vertex(bytesField(5, ts(100))))));
    d.push(b64(msg(log("added 1 pack"))));
    d.push(b64(msg(log("age in 1s\nno newline at end"))));
    d.push(b64(msg(vertex(bytesField(5, ts(100))), vertex(bytesField(5, ts(100)), bytesField(6, ts(102, 500_000_000))))));
    expect(lines).toEqual(["[2/5] RUN npm ci", "added 1 package in 1s", "no newline at end", "[2/5] RUN npm ci DONE 2.5s"]);
  });

  test("progress lines ending in \\r become separate lines", () => {
    const lines: string[] = [];
    const d = new BuildTraceDecoder((l) => lines.push(l));
    d.push(b64(msg(log("10%\r50%\r100%\n"))));
    expect(lines).toEqual(["10%", "50%", "100%"]);
  });

  test("a cached vertex is announced once, as CACHED, without DONE", () => {
    const lines: string[] = [];
    const d = new BuildTraceDecoder((l) => lines.push(l));
    const cached = vertex(varintField(4, 1), bytesField(5, ts(1)), bytesField(6, ts(1)));
    d.push(b64(msg(cached)));
    d.push(b64(msg(cached)));
    expect(lines).toEqual(["[2/5] RUN npm ci CACHED"]);
    expect(d.cachedSteps()).toEqual(["[2/5] RUN npm ci"]);
  });

  test("a step that ran is not among the cached steps", () => {
    const d = new BuildTraceDecoder(() => {});
    d.push(b64(msg(vertex(bytesField(5, ts(1)), bytesField(6, ts(2))))));
    expect(d.cachedSteps()).toEqual([]);
  });

  test("warnings are shown", () => {
    const lines: string[] = [];
    const d = new BuildTraceDecoder((l) => lines.push(l));
    d.push(b64(msg(bytesField(4, msg(bytesField(1, digest), varintField(2, 1), bytesField(3, "FROM without platform"))))));
    expect(lines).toEqual(["WARN FROM without platform"]);
  });

  test("unknown fields (VertexStatus progress) are skipped", () => {
    const lines: string[] = [];
    const d = new BuildTraceDecoder((l) => lines.push(l));
    d.push(b64(msg(bytesField(2, msg(bytesField(1, "x"), varintField(4, 1234))), vertex(bytesField(5, ts(5))))));
    expect(lines).toEqual(["[2/5] RUN npm ci"]);
  });
});

describe("describeFailedStep", () => {
  test("names the command without mount flags or secret exports, its exit code and last lines, secrets masked", () => {
    const failed = {
      step: '[build 6/6] RUN --mount=type=cache,id=kiln-npm,target=/root/.npm --mount=type=secret,id=TOKEN,required=true TOKEN="$(cat /run/secrets/TOKEN && printf x)" ; TOKEN="${TOKEN%x}" ; export TOKEN ; npm run build',
      error: 'process "/bin/sh -c npm run build" did not complete successfully: exit code: 2',
      tail: Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).concat(["using s3cr3t-value here"]),
    };
    const text = describeFailedStep(failed, ["s3cr3t-value"]);
    expect(text.split("\n")[0]).toBe("the build step `npm run build` failed (exit code 2); its last lines:");
    expect(text.split("\n").slice(1)).toEqual(["  line 6", "  line 7", "  line 8", "  line 9", "  line 10", "  line 11", "  line 12", "  using *** here"]);
  });

  test("a step that is not a RUN keeps BuildKit's words", () => {
    expect(describeFailedStep({ step: "[build 3/6] COPY missing ./", error: "not found", tail: [] })).toBe("image build failed at [build 3/6] COPY missing ./: not found");
  });
});
