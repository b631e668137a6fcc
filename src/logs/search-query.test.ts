import { describe, expect, test } from "bun:test";
import { KilnError } from "../core/errors.ts";
import { parseLogSearch } from "./search-query.ts";

function refusal(query: Record<string, string>): { message: string; hint?: string } {
  try {
    parseLogSearch(query);
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).kind).toBe("bad_request");
    return { message: (err as KilnError).message, hint: (err as KilnError).hint };
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
}

describe("parseLogSearch", () => {
  test("defaults: every line, 100 a page", () => {
    expect(parseLogSearch({})).toEqual({ limit: 100 });
    expect(parseLogSearch({ q: "", token: "t" })).toEqual({ limit: 100 });
  });

  test("since/until take a seq or an ISO time; stream a comma list; cursor becomes `before`", () => {
    expect(parseLogSearch({ q: "Err", since: "10", until: "2026-12-01T10:00:00Z", stream: "runtime,system", limit: "1000", cursor: "77" })).toEqual({
      text: "Err",
      sinceSeq: 10,
      untilTs: Date.parse("2026-12-01T10:00:00Z"),
      streams: ["runtime", "system"],
      limit: 1000,
      before: 77,
    });
    expect(parseLogSearch({ since: "2026-12-01", until: "12" })).toEqual({ sinceTs: Date.parse("2026-12-01"), untilSeq: 12, limit: 100 });
  });

  test("every bad parameter is a 400 naming it and what to do", () => {
    expect(refusal({ limit: "0" }).message).toContain("limit must be an integer from 1 to 1000");
    expect(refusal({ limit: "1001" }).message).toContain("limit");
    expect(refusal({ limit: "ten" }).message).toContain("limit");
    expect(refusal({ since: "yesterday" })).toEqual({ message: 'since "yesterday" is neither a seq nor a time', hint: expect.stringContaining("ISO 8601") });
    expect(refusal({ until: "2026-13-45T99:00:00Z" }).message).toContain("until");
    expect(refusal({ stream: "runtime,stdout" })).toEqual({ message: 'unknown stream "stdout"', hint: "use one or more of build, runtime, system, comma-separated" });
    expect(refusal({ cursor: "-1" }).message).toContain("cursor");
    expect(refusal({ cursor: "0" }).message).toContain("cursor");
    expect(refusal({ q: "x".repeat(257) }).hint).toContain("256");
    expect(refusal({ query: "x" })).toEqual({ message: 'unknown parameter "query"', hint: "use q, since, until, stream, limit, cursor" });
  });
});
