import { expect, test } from "bun:test";
import { rcloneFlagProblem } from "./rclone-flags.ts";

test.each(["--s3-force-path-style", "--transfers=8", "--fast-list", "--s3-upload-cutoff=64M"])("%p is allowed", (flag) => {
  expect(rcloneFlagProblem(flag)).toBeNull();
});

test.each([
  ["--config=/etc/passwd", /--config is not allowed/],
  ["--password-command=sh", /runs a program/],
  ["--rc-addr=:5572", /remote-control/],
  ["--dump=headers", /credentials/],
  ["--copy-links", /symlinks/],
  ["--s3-secret-access-key=x", /secret_access_key/],
  ["--s3-endpoint=http://evil", /sync.sink.endpoint/],
  ["-v", /long flag/],
  ["8", /long flag/],
  ["--Transfers", /long flag/],
])("%p is refused", (flag, why) => {
  expect(rcloneFlagProblem(flag)).toMatch(why);
});
