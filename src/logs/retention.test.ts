import { describe, expect, test } from "bun:test";
import { SqliteStore } from "../adapters/store/sqlite.ts";
import type { LogLine } from "../core/logs.ts";
import { LogBus } from "./bus.ts";
import { LogRetention } from "./retention.ts";

const DAY = 86_400_000;
const NOW = 100 * DAY;
/** Lines first..last, one a day: the line of seq s is at day s. */
const lines = (first: number, last: number): LogLine[] =>
  Array.from({ length: last - first + 1 }, (_, i) => ({ seq: first + i, ts: (first + i) * DAY, stream: "runtime" as const, text: `day ${first + i}` }));

describe("LogRetention", () => {
  test("a sweep removes what is past the age, announces it on the stream, and numbering carries on", async () => {
    const store = SqliteStore.open(":memory:");
    // dep-a: days 1–100 in chunks of 10; dep-b: days 95–100 only.
    for (let f = 1; f <= 100; f += 10) await store.logs.appendChunk("dep-a", lines(f, f + 9));
    await store.logs.appendChunk("dep-b", lines(95, 100));
    const bus = new LogBus({ store: store.logs });
    const retention = new LogRetention({
      logs: store.logs,
      maxAgeMs: 30 * DAY,
      maxBytes: 1024 * 1024 * 1024,
      now: () => NOW,
      announce: async (stream, text) => {
        await bus.open(stream);
        bus.publish(stream, "system", text);
      },
    });
    const swept = await retention.sweep();
    // The cut is day 70: chunks [1–10] … [51–60] end before it; [61–70] ends on it and stays.
    expect(swept).toEqual([{ stream: "dep-a", lines: 60, bytes: expect.any(Number), throughSeq: 60 }]);
    await bus.flush();
    const left = await store.logs.read("dep-a", 1, 1000);
    expect(left[0]!.seq).toBe(61);
    const notice = left[left.length - 1]!;
    expect(notice).toMatchObject({ seq: 101, stream: "system" });
    expect(notice.text).toStartWith("log retention removed 60 stored lines through seq 60 (");
    expect(notice.text).toEndWith("this log keeps 30 days and at most 1024 MiB");
    expect((await store.logs.read("dep-b", 1, 100)).length).toBe(6);
    // A second sweep finds nothing more to remove and says nothing.
    expect(await retention.sweep()).toEqual([]);
    await bus.close();
    await store.close();
  });

  test("size: a stream over its bytes loses its oldest chunks, keeping the newest", async () => {
    const store = SqliteStore.open(":memory:");
    for (let f = 1; f <= 100; f += 10) await store.logs.appendChunk("dep-a", lines(f, f + 9));
    const said: string[] = [];
    const retention = new LogRetention({ logs: store.logs, maxAgeMs: 1000 * DAY, maxBytes: 1, now: () => NOW, announce: (_s, text) => void said.push(text) });
    expect(await retention.sweep()).toEqual([{ stream: "dep-a", lines: 90, bytes: expect.any(Number), throughSeq: 90 }]);
    expect((await store.logs.read("dep-a", 1, 100)).map((l) => l.seq)).toEqual(lines(91, 100).map((l) => l.seq));
    expect(said).toHaveLength(1);
    await store.close();
  });
});
