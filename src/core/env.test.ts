/** Unit tests for an app's environment: parsing input, the stored form, the runtime and build views, and value-free descriptions. */
import { describe, expect, test } from "bun:test";
import { buildEnv, buildEnvChanged, decodeEnv, describeEnv, describeEnvChange, encodeEnv, MAX_ENV_VARS, parseEnvInput, runtimeEnv, type AppEnv } from "./env.ts";
import { KilnError } from "./errors.ts";
import { Secret } from "./secret.ts";

const VALUE = "s3cr3t-value-Zq9";

/** Asserts bad_request whose message contains `part` and never the value sent. */
function expectRefused(input: unknown, part: string): void {
  let caught: unknown;
  try {
    parseEnvInput(input);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(KilnError);
  const err = caught as KilnError;
  expect(err.kind).toBe("bad_request");
  expect(err.message).toContain(part);
  expect(`${err.message} ${err.hint ?? ""}`).not.toContain(VALUE);
}

/** The plain view of an env, for comparisons. */
const plain = (env: AppEnv) => Object.fromEntries(Object.entries(env).map(([k, e]) => [k, { value: e.value.reveal(), secret: e.secret, buildTime: e.buildTime }]));
const reveal = (vars: Record<string, Secret>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.reveal()]));

const mk = (v: string, secret = true, buildTime = false) => ({ value: new Secret(v), secret, buildTime });

describe("parseEnvInput", () => {
  test("a string value: secret, not build-time", () => {
    const env = parseEnvInput({ API_URL: "https://x" });
    expect(env.API_URL!.value).toBeInstanceOf(Secret);
    expect(plain(env)).toEqual({ API_URL: { value: "https://x", secret: true, buildTime: false } });
  });

  test("the object form, with and without flags", () => {
    const env = parseEnvInput({ A: { value: "1" }, B: { value: "2", secret: false, buildTime: true }, c_lower: { value: "", secret: true } });
    expect(plain(env)).toEqual({
      A: { value: "1", secret: true, buildTime: false },
      B: { value: "2", secret: false, buildTime: true },
      c_lower: { value: "", secret: true, buildTime: false },
    });
  });

  test("an empty object and exactly 200 variables", () => {
    expect(parseEnvInput({})).toEqual({});
    const many = Object.fromEntries(Array.from({ length: MAX_ENV_VARS }, (_, i) => [`V${i}`, "x"]));
    expect(Object.keys(parseEnvInput(many))).toHaveLength(MAX_ENV_VARS);
  });

  test("a value of exactly 32 KiB", () => {
    expect(parseEnvInput({ BIG: "a".repeat(32 * 1024) }).BIG!.value.reveal()).toHaveLength(32 * 1024);
  });

  test("refuses a non-object", () => {
    for (const v of [null, "A=1", 3, [["A", "1"]]]) expectRefused(v, "env must be an object");
  });

  test("names the field it was given", () => {
    expect(() => parseEnvInput({ "1X": "v" }, "buildEnv")).toThrow("buildEnv:");
  });

  test("refuses unknown fields in the object form", () => {
    expectRefused({ A: { value: VALUE, secrett: true } }, 'env.A: unknown field "secrett"');
  });

  test("refuses non-string values", () => {
    for (const v of [1, true, null, ["x"], { value: 1 }, {}]) expectRefused({ A: v }, "env.A: the value must be a string");
  });

  test("refuses non-boolean flags", () => {
    expectRefused({ A: { value: VALUE, secret: "yes" } }, "env.A.secret");
    expectRefused({ A: { value: VALUE, buildTime: 1 } }, "env.A.buildTime");
  });

  test("refuses a NUL byte, without echoing the value", () => expectRefused({ A: `${VALUE}\0` }, "env.A: the value contains a NUL byte"));

  test("refuses a value over 32 KiB (counted in bytes)", () => {
    expectRefused({ A: VALUE + "a".repeat(32 * 1024) }, "env.A: the value is over 32 KiB");
    expectRefused({ A: "é".repeat(16 * 1024 + 1) }, "env.A: the value is over 32 KiB");
  });

  test("refuses bad names", () => {
    for (const name of ["1ABC", "A-B", "A B", "", "Ä", "X".repeat(129)]) expectRefused({ [name]: VALUE }, "is not a variable name");
  });

  test("refuses PORT", () => expectRefused({ PORT: "8080" }, "PORT is set by Kiln"));

  test("refuses forbidden names, case-insensitively", () => {
    for (const name of ["LD_PRELOAD", "ld_library_path", "HTTPS_PROXY", "PATH", "GIT_SSH_COMMAND", "DOCKER_HOST", "SSL_CERT_FILE"]) {
      expectRefused({ [name]: VALUE }, `env ${name} is not allowed`);
    }
  });

  test("refuses __proto__ (it would vanish instead of being stored)", () => {
    expectRefused(JSON.parse(`{"__proto__": "${VALUE}"}`), "__proto__");
  });

  test("refuses more than 200 variables", () => {
    const many = Object.fromEntries(Array.from({ length: MAX_ENV_VARS + 1 }, (_, i) => [`V${i}`, "x"]));
    expectRefused(many, "at most 200 variables");
  });
});

describe("encodeEnv / decodeEnv", () => {
  test("round trip keeps values and flags", () => {
    const env = parseEnvInput({ A: VALUE, B: { value: "two", secret: false, buildTime: true }, C: { value: "", buildTime: true } });
    const back = decodeEnv(encodeEnv(env));
    expect(plain(back)).toEqual(plain(env));
    expect(back.A!.value).toBeInstanceOf(Secret);
  });

  test("reads the legacy {NAME: value} form as secret, not build-time", () => {
    expect(plain(decodeEnv(JSON.stringify({ A: "1", B: "two" })))).toEqual({
      A: { value: "1", secret: true, buildTime: false },
      B: { value: "two", secret: true, buildTime: false },
    });
  });

  test("missing flags in the stored form take their defaults", () => {
    expect(plain(decodeEnv(JSON.stringify({ A: { v: "1" } })))).toEqual({ A: { value: "1", secret: true, buildTime: false } });
  });

  test("nothing stored is an empty env", () => {
    expect(decodeEnv(null)).toEqual({});
    expect(decodeEnv("")).toEqual({});
  });
});

describe("runtimeEnv and buildEnv", () => {
  const env: AppEnv = { A: mk("a"), B: mk("b", false, true), C: mk("c", true, true) };
  test("runtimeEnv has every variable", () => expect(reveal(runtimeEnv(env))).toEqual({ A: "a", B: "b", C: "c" }));
  test("buildEnv has only build-time variables", () => expect(reveal(buildEnv(env))).toEqual({ B: "b", C: "c" }));
  test("both hand out Secrets", () => {
    for (const v of [...Object.values(runtimeEnv(env)), ...Object.values(buildEnv(env))]) expect(v).toBeInstanceOf(Secret);
  });
});

describe("describeEnv", () => {
  test("keys and flags, sorted, never values", () => {
    const env = parseEnvInput({ ZED: VALUE, ALPHA: { value: `${VALUE}-2`, secret: false, buildTime: true } });
    const out = describeEnv(env);
    expect(out).toEqual([
      { key: "ALPHA", secret: false, buildTime: true },
      { key: "ZED", secret: true, buildTime: false },
    ]);
    expect(JSON.stringify(out)).not.toContain(VALUE);
  });
});

describe("buildEnvChanged", () => {
  test("false when only runtime variables change", () => {
    expect(buildEnvChanged({ A: mk("1") }, { A: mk("2"), B: mk("3") })).toBe(false);
    expect(buildEnvChanged({ A: mk("1"), K: mk("k", true, true) }, { K: mk("k", false, true) })).toBe(false);
    expect(buildEnvChanged({}, {})).toBe(false);
  });
  test("true when a build-time value changes", () => expect(buildEnvChanged({ K: mk("1", true, true) }, { K: mk("2", true, true) })).toBe(true));
  test("true when a build-time variable is added or removed", () => {
    expect(buildEnvChanged({}, { K: mk("1", true, true) })).toBe(true);
    expect(buildEnvChanged({ K: mk("1", true, true) }, {})).toBe(true);
  });
  test("true when a variable becomes or stops being build-time", () => {
    expect(buildEnvChanged({ K: mk("1") }, { K: mk("1", true, true) })).toBe(true);
    expect(buildEnvChanged({ K: mk("1", true, true) }, { K: mk("1") })).toBe(true);
  });
});

describe("describeEnvChange", () => {
  test("names set and unset variables, sorted, never values", () => {
    const before: AppEnv = { A: mk(VALUE), B: mk("b-old-value"), GONE: mk("gone-value"), SAME: mk("same-value") };
    const after: AppEnv = { A: mk(VALUE, false), B: mk("b-new-value"), NEW: mk("new-value"), SAME: mk("same-value") };
    const text = describeEnvChange(before, after);
    expect(text).toBe("set A, B, NEW; unset GONE");
    for (const v of [VALUE, "b-old-value", "b-new-value", "gone-value", "new-value", "same-value"]) expect(text).not.toContain(v);
  });
  test("only set, only unset, and no change", () => {
    expect(describeEnvChange({}, { X: mk("1") })).toBe("set X");
    expect(describeEnvChange({ X: mk("1") }, {})).toBe("unset X");
    expect(describeEnvChange({ X: mk("1") }, { X: mk("1") })).toBe("no change");
  });
  test("a flag change counts as set", () => expect(describeEnvChange({ X: mk("1") }, { X: mk("1", true, true) })).toBe("set X"));
});
