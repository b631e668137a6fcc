import { describe, expect, test } from "bun:test";
import { ProblemList } from "./errors.ts";
import { interpolateString, interpolateTree, type UsedEnv } from "./interpolate.ts";

const run = (text: string, env: Record<string, string | undefined>, keepTenantId = false) => {
  const used: UsedEnv = new Map();
  return { r: interpolateString(text, { env, used, keepTenantId }), used };
};
const value = (text: string, env: Record<string, string | undefined> = {}, keep = false) => {
  const { r } = run(text, env, keep);
  if ("problem" in r) throw new Error(r.problem);
  return r.value;
};

describe("interpolateString", () => {
  test("replaces ${VAR} and ${VAR:-default}", () => {
    expect(value("a ${X} b", { X: "1" })).toBe("a 1 b");
    expect(value("${X}${Y}", { X: "1", Y: "2" })).toBe("12");
    expect(value("${X:-fallback}", {})).toBe("fallback");
    expect(value("${X:-fallback}", { X: "" })).toBe("fallback");
    expect(value("${X:-}", {})).toBe("");
    expect(value("${X:-a:b c}", {})).toBe("a:b c");
    expect(value("${X:-fallback}", { X: "set" })).toBe("set");
    expect(value("${X}", { X: "" })).toBe("");
  });

  test("leaves $VAR, $$ and lone $ alone; $${ is a literal ${", () => {
    expect(value("echo $HOME $$ $ 5$")).toBe("echo $HOME $$ $ 5$");
    expect(value("$${NOT_A_VAR}")).toBe("${NOT_A_VAR}");
  });

  test("a missing variable is a problem naming it", () => {
    const { r } = run("x ${S3_SECRET} y", {});
    expect(r).toMatchObject({ problem: "${S3_SECRET} is not set in Kiln's environment" });
    expect("hint" in r && r.hint).toContain("${S3_SECRET:-value}");
  });

  test("${tenantId} is kept where allowed, refused elsewhere", () => {
    expect(value("tenants/${tenantId}/", {}, true)).toBe("tenants/${tenantId}/");
    expect(value("${P}/${tenantId}", { P: "pre" }, true)).toBe("pre/${tenantId}");
    expect(run("${tenantId}", { tenantId: "x" }).r).toMatchObject({ problem: "${tenantId} is only expanded in sync.sink.prefix" });
  });

  test("bad references and unclosed ${ are problems", () => {
    expect(run("${1X}", {}).r).toMatchObject({ problem: "has a bad reference ${1X}" });
    expect(run("${X:?err}", {}).r).toMatchObject({ problem: "has a bad reference ${X:?err}" });
    expect(run("${X", {}).r).toMatchObject({ problem: "has an unclosed ${" });
  });

  test("records the variables used, null when unset", () => {
    const { used } = run("${A} ${B:-x} ${C:-y}", { A: "1", C: "3" });
    expect([...used]).toEqual([["A", "1"], ["B", null], ["C", "3"]]);
  });
});

describe("interpolateTree", () => {
  test("walks maps and lists, leaves keys and non-strings alone, keeps ${tenantId} only in sync.sink.prefix", () => {
    const problems = new ProblemList("f.yaml");
    const tree = { "${K}": "${V}", n: 1, b: true, list: ["${V}", 2], sync: { sink: { prefix: "p/${tenantId}/${V}" } } };
    const { value: out, used } = interpolateTree(tree, { V: "v", K: "k" }, problems);
    expect(problems.empty).toBe(true);
    expect(out).toEqual({ "${K}": "v", n: 1, b: true, list: ["v", 2], sync: { sink: { prefix: "p/${tenantId}/v" } } });
    expect([...used.keys()]).toEqual(["V"]);
  });

  test("problems carry the field path", () => {
    const problems = new ProblemList("w/a.yaml");
    interpolateTree({ environment: { DB: "${DB_URL}" }, command: ["x", "${tenantId}"] }, {}, problems);
    expect(problems.errors.map((e) => e.message)).toEqual([
      "w/a.yaml: environment.DB: ${DB_URL} is not set in Kiln's environment",
      "w/a.yaml: command[1]: ${tenantId} is only expanded in sync.sink.prefix",
    ]);
  });
});
