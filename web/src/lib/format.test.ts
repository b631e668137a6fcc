import { expect, test } from "bun:test";
import { formatDuration, timeAgo } from "./format.ts";

test("formatDuration", () => {
  expect(formatDuration(null)).toBe("—");
  expect(formatDuration(340)).toBe("340ms");
  expect(formatDuration(2340)).toBe("2.3s");
  expect(formatDuration(42_000)).toBe("42s");
  expect(formatDuration(125_000)).toBe("2m 5s");
});

test("timeAgo", () => {
  const now = Date.parse("2025-01-01T00:10:00Z");
  expect(timeAgo("2025-01-01T00:09:58Z", now)).toBe("just now");
  expect(timeAgo("2025-01-01T00:09:00Z", now)).toBe("1m ago");
  expect(timeAgo(null, now)).toBe("—");
});
