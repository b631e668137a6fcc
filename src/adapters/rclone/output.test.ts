import { expect, test } from "bun:test";
import { cleanLine, failureSummary, isProgress } from "./output.ts";

test("cleanLine drops the NOTICE level and extra spaces, keeps ERROR", () => {
  expect(cleanLine("NOTICE:     2.861 MiB / 2.861 MiB, 100%, 0 B/s, ETA -")).toBe("2.861 MiB / 2.861 MiB, 100%, 0 B/s, ETA -");
  expect(cleanLine("ERROR : a.txt: Failed to copy: boom")).toBe("error: a.txt: Failed to copy: boom");
  expect(cleanLine("\tstatus code: 403, request id: , host id: ")).toBe("status code: 403, request id: , host id:");
  expect(cleanLine("Failed to sync: x")).toBe("Failed to sync: x");
});

test("isProgress recognizes --stats-one-line lines", () => {
  expect(isProgress("2.861 MiB / 2.861 MiB, 100%, 0 B/s, ETA -")).toBe(true);
  expect(isProgress("0 B / 0 B, -, 0 B/s, ETA -")).toBe(true);
  expect(isProgress("error: a.txt: Failed to copy")).toBe(false);
});

test("failureSummary keeps the last distinct error lines, not progress", () => {
  const tail = [
    "ERROR : Attempt 1/3 failed with 1 errors and: InvalidAccessKeyId: no such key",
    "\tstatus code: 403, request id: , host id: ",
    "ERROR : Attempt 2/3 failed with 1 errors and: InvalidAccessKeyId: no such key",
    "\tstatus code: 403, request id: , host id: ",
    "NOTICE:           0 B / 0 B, -, 0 B/s, ETA -",
    "Failed to sync: InvalidAccessKeyId: no such key",
    "\tstatus code: 403, request id: , host id: ",
  ];
  expect(failureSummary(tail, 3)).toBe(
    "error: Attempt 2/3 failed with 1 errors and: InvalidAccessKeyId: no such key; Failed to sync: InvalidAccessKeyId: no such key; status code: 403, request id: , host id:",
  );
  expect(failureSummary([])).toBe("rclone printed nothing");
});
