import { describe, expect, test } from "bun:test";
import { explainToolFailure } from "./tool-failures.ts";

/** What pip 23 printed in a build container with no DNS for pypi.org (captured on this machine). */
const PIP_NO_DNS = [
  "[build 4/6] RUN python -m venv /app/.venv && pip install -r requirements.txt",
  ...[4, 3, 2, 1, 0].map(
    (n) =>
      `WARNING: Retrying (Retry(total=${n}, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7fa03bea0ad0>: Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/flask/`,
  ),
  "ERROR: Could not find a version that satisfies the requirement flask==3.1.0 (from versions: none)",
  "ERROR: No matching distribution found for flask==3.1.0",
  "ERROR [build 4/6] RUN python -m venv /app/.venv && pip install -r requirements.txt: executor failed running [/bin/sh -c python -m venv /app/.venv && pip install -r requirements.txt]: exit code: 1",
];

/** What go 1.19 printed for `go mod download` with no DNS for proxy.golang.org (captured on this machine). */
const GO_NO_DNS = [
  'go: github.com/google/uuid@v1.6.0: Get "https://proxy.golang.org/github.com/google/uuid/@v/v1.6.0.mod": dial tcp: lookup proxy.golang.org on 10.255.255.53:53: no such host',
  "ERROR [build 4/7] RUN go mod download: executor failed running [/bin/sh -c go mod download]: exit code: 1",
];

describe("pip", () => {
  test("no DNS for the index: the message names the index and the package, the hint the two ways out", () => {
    expect(explainToolFailure(PIP_NO_DNS)).toEqual({
      message: "pip could not reach the package index (https://pypi.org/simple): its name does not resolve here; flask==3.1.0 was not installed",
      hint:
        "set PIP_INDEX_URL (a build-time env var) to an index this machine reaches, or vendor wheels: " +
        "`pip download -r requirements.txt -d wheels/` where the index answers, commit wheels/, and start " +
        "requirements.txt with `--no-index --find-links wheels/`",
    });
  });

  test("an index set with PIP_INDEX_URL is named instead, its credentials masked; other errors in words", () => {
    const lines = [
      "Looking in indexes: https://user:****@pypi.internal.example/simple",
      "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 101] Network is unreachable')': /simple/requests/",
      "ERROR: No matching distribution found for requests",
    ];
    expect(explainToolFailure(lines)?.message).toBe(
      "pip could not reach the package index (https://***@pypi.internal.example/simple): no network route; requests was not installed",
    );
    const timeout = [
      "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ConnectTimeoutError(<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>, 'Connection to pypi.org timed out. (connect timeout=15)')': /simple/requests/",
      "ERROR: No matching distribution found for requests",
    ];
    expect(explainToolFailure(timeout)?.message).toBe("pip could not reach the package index (https://pypi.org/simple): the connection timed out; requests was not installed");
  });

  test("a package the index does not have (no connection error) is left to pip's own error", () => {
    expect(explainToolFailure(PIP_NO_DNS.filter((l) => !l.startsWith("WARNING: Retrying")))).toBeNull();
  });
});

describe("go", () => {
  test("no DNS for the module proxy: the message names GOPROXY", () => {
    expect(explainToolFailure(GO_NO_DNS)).toEqual({
      message: "Go modules need a module proxy; none answered (GOPROXY=https://proxy.golang.org): its name does not resolve here",
      hint: "set GOPROXY (a build-time env var) to a module proxy this machine reaches, or vendor the modules: `go mod vendor` where a proxy answers, and commit vendor/",
    });
  });

  test("a direct fetch (GOPROXY=direct) and GOPROXY=off are named as such", () => {
    const direct = ['go: github.com/x/y@v1.0.0: unrecognized import path "github.com/x/y": https fetch: Get "https://github.com/x/y?go-get=1": dial tcp 140.82.121.3:443: i/o timeout'];
    expect(explainToolFailure(direct)?.message).toBe("Go modules need a module proxy; none answered (direct from https://github.com): the connection timed out");
    const off = ["main.go:4:2: github.com/x/y@v1.0.0: module lookup disabled by GOPROXY=off"];
    expect(explainToolFailure(off)?.message).toBe("Go modules need a module proxy; none answered (GOPROXY=off): module downloads are turned off");
  });

  test("a compile error is not a proxy failure", () => {
    expect(explainToolFailure(["./main.go:5:2: undefined: foo", "ERROR [build 6/7] RUN go build: exit code: 1"])).toBeNull();
  });
});

test("a module proxy URL with credentials is named with them masked", () => {
  const failure = explainToolFailure([
    'go: example.com/x@v1.0.0: Get "https://bob:hunter2@goproxy.internal/example.com/x/@v/v1.0.0.mod": dial tcp: lookup goproxy.internal: no such host',
  ]);
  expect(failure?.message).toBe("Go modules need a module proxy; none answered (GOPROXY=https://***@goproxy.internal): its name does not resolve here");
});
