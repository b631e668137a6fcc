import { describe, expect, test } from "bun:test";
import { Registry } from "./registry.ts";
import { escapeHelp, escapeLabelValue, formatValue, sampleLine } from "./text.ts";

describe("text format", () => {
  test("label values escape backslash, double quote and newline, and nothing else", () => {
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
    expect(sampleLine("m", { path: 'C:\\x "y"\n' }, 1)).toBe('m{path="C:\\\\x \\"y\\"\\n"} 1');
  });

  test("help text escapes backslash and newline, not quotes", () => {
    expect(escapeHelp('say "hi"\\\nbye')).toBe('say "hi"\\\\\\nbye');
  });

  test("values: integers, decimals, infinities, NaN", () => {
    expect([0, 3, 0.25, 1e-7, Infinity, -Infinity, NaN].map(formatValue)).toEqual(["0", "3", "0.25", "1e-7", "+Inf", "-Inf", "NaN"]);
  });
});

describe("registry", () => {
  test("renders counters and gauges exactly, in registration order, series in first-touched order", async () => {
    const reg = new Registry();
    const builds = reg.counter("kiln_builds_total", "Builds by result.", ["result"]);
    const subs = reg.gauge("kiln_ws_subscribers", "Live subscribers.");
    const dropped = reg.counter("kiln_dropped_total", "Dropped lines.");
    builds.inc({ result: "succeeded" });
    builds.inc({ result: "failed" }, 2);
    builds.inc({ result: "succeeded" });
    subs.inc();
    subs.inc();
    subs.dec();
    expect(await reg.render()).toBe(
      [
        "# HELP kiln_builds_total Builds by result.",
        "# TYPE kiln_builds_total counter",
        'kiln_builds_total{result="succeeded"} 2',
        'kiln_builds_total{result="failed"} 2',
        "# HELP kiln_ws_subscribers Live subscribers.",
        "# TYPE kiln_ws_subscribers gauge",
        "kiln_ws_subscribers 1",
        "# HELP kiln_dropped_total Dropped lines.",
        "# TYPE kiln_dropped_total counter",
        "kiln_dropped_total 0",
        "",
      ].join("\n"),
    );
    expect(dropped.get()).toBe(0);
  });

  test("a labelled metric nobody touched shows only its header", async () => {
    const reg = new Registry();
    reg.counter("kiln_x_total", "X.", ["a"]);
    expect(await reg.render()).toBe("# HELP kiln_x_total X.\n# TYPE kiln_x_total counter\n");
  });

  test("labels come out in declared order, whatever order they were given in", async () => {
    const reg = new Registry();
    const g = reg.gauge("kiln_pool_members", "Members.", ["workload", "status"]);
    g.set({ status: "ready", workload: "echo" }, 2);
    expect((await reg.render()).split("\n")[2]).toBe('kiln_pool_members{workload="echo",status="ready"} 2');
  });

  test("histogram: cumulative buckets, +Inf, sum and count per series", async () => {
    const reg = new Registry();
    const h = reg.histogram("kiln_claim_duration_seconds", "Claims.", ["source"], [0.1, 1, 10]);
    h.observe({ source: "pool" }, 0.05);
    h.observe({ source: "pool" }, 0.1); // on a bound: counts in that bucket (le is inclusive)
    h.observe({ source: "pool" }, 0.5);
    h.observe({ source: "pool" }, 30);
    h.observe({ source: "cold" }, 2);
    expect(await reg.render()).toBe(
      [
        "# HELP kiln_claim_duration_seconds Claims.",
        "# TYPE kiln_claim_duration_seconds histogram",
        'kiln_claim_duration_seconds_bucket{source="pool",le="0.1"} 2',
        'kiln_claim_duration_seconds_bucket{source="pool",le="1"} 3',
        'kiln_claim_duration_seconds_bucket{source="pool",le="10"} 3',
        'kiln_claim_duration_seconds_bucket{source="pool",le="+Inf"} 4',
        'kiln_claim_duration_seconds_sum{source="pool"} 30.65',
        'kiln_claim_duration_seconds_count{source="pool"} 4',
        'kiln_claim_duration_seconds_bucket{source="cold",le="0.1"} 0',
        'kiln_claim_duration_seconds_bucket{source="cold",le="1"} 0',
        'kiln_claim_duration_seconds_bucket{source="cold",le="10"} 1',
        'kiln_claim_duration_seconds_bucket{source="cold",le="+Inf"} 1',
        'kiln_claim_duration_seconds_sum{source="cold"} 2',
        'kiln_claim_duration_seconds_count{source="cold"} 1',
        "",
      ].join("\n"),
    );
    expect(h.get({ source: "pool" })).toBe(4);
  });

  test("an unlabelled histogram shows zeros before its first observation", async () => {
    const reg = new Registry();
    reg.histogram("kiln_h_seconds", "H.", [], [1]);
    expect(await reg.render()).toBe(
      ["# HELP kiln_h_seconds H.", "# TYPE kiln_h_seconds histogram", 'kiln_h_seconds_bucket{le="1"} 0', 'kiln_h_seconds_bucket{le="+Inf"} 0', "kiln_h_seconds_sum 0", "kiln_h_seconds_count 0", ""].join("\n"),
    );
  });

  test("tracked counter series are read at render; collectors run first", async () => {
    const reg = new Registry();
    let tally = 0;
    const illegal = reg.counter("kiln_illegal_transitions_total", "Refused.", ["component"]);
    illegal.track({ component: "refiller" }, () => tally);
    const g = reg.gauge("kiln_g", "G.");
    let calls = 0;
    reg.collect(() => g.set({}, ++calls));
    tally = 3;
    expect(await reg.render()).toContain('kiln_illegal_transitions_total{component="refiller"} 3\n# HELP kiln_g G.\n# TYPE kiln_g gauge\nkiln_g 1\n');
    expect(illegal.get({ component: "refiller" })).toBe(3);
  });

  test("misuse is a bug, thrown at once: wrong labels, bad names, counters going down, duplicates", () => {
    const reg = new Registry();
    const c = reg.counter("kiln_c_total", "C.", ["a"]);
    expect(() => c.inc({ b: "x" } as never)).toThrow("kiln_c_total takes labels [a], got [b]");
    expect(() => c.inc({ a: "x" }, -1)).toThrow("can only go up");
    expect(() => reg.counter("kiln_c_total", "again")).toThrow("registered twice");
    expect(() => reg.counter("kiln-bad", "x")).toThrow("invalid metric name");
    expect(() => reg.counter("kiln_ok", "x", ["le"])).toThrow("invalid label name");
    expect(() => reg.histogram("kiln_h", "x", [], [1, 1])).toThrow("increasing order");
  });
});
