import { describe, expect, test } from "bun:test";
import { KilnError } from "./errors.ts";
import {
  DEPLOYMENT_NAME,
  ENV_NAME,
  ENV_NAME_PATTERN,
  FORBIDDEN_ENV_HINT,
  forbiddenEnvMessage,
  forbiddenEnvReason,
  generateDeploymentName,
  isDeploymentName,
  isDnsLabel,
  isEnvName,
  isForbiddenEnvName,
  isHostName,
  isImageRef,
  isMemberId,
  isS3Bucket,
  isTenantId,
  isWorkloadId,
  validateDeploymentEnv,
  validateDeploymentName,
  validateTenantId,
} from "./names.ts";

function refusal(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    return err as KilnError;
  }
  throw new Error("expected a refusal");
}

/** Strings every DNS-label kind refuses. */
const NEVER_A_LABEL = ["", "-a", "a-", "-", "A", "aB", "a_b", "a.b", "a b", " a", "a\n", "é", "ｘ", "a/b", "..", "a:b", "a\0b"];

describe("DNS labels and host names", () => {
  test("a label: 1–63 of a-z 0-9 '-', a letter or digit at either end", () => {
    for (const s of ["a", "0", "a-b", "9--x", "x".repeat(63)]) expect(isDnsLabel(s)).toBe(true);
    for (const s of [...NEVER_A_LABEL, "x".repeat(64)]) expect(isDnsLabel(s)).toBe(false);
  });

  test("a host name: labels joined by '.', at most 253 characters", () => {
    for (const s of ["a", "hello.localhost", "a-1.b-2.example.com", `${"x".repeat(63)}.${"y".repeat(63)}`]) expect(isHostName(s)).toBe(true);
    for (const s of ["", ".", "a.", ".a", "a..b", "A.b", "a_b.c", `${"x".repeat(64)}.y`]) expect(isHostName(s)).toBe(false);
    const long = Array.from({ length: 4 }, () => "x".repeat(63)).join("."); // 255 characters
    expect(isHostName(long.slice(0, 253))).toBe(true);
    expect(isHostName(`${long.slice(0, 252)}xy`)).toBe(false);
  });
});

describe("deployment names", () => {
  test("DNS labels of 1–40", () => {
    for (const s of ["a", "hello", "my-app-2", "x".repeat(40)]) expect(isDeploymentName(s)).toBe(true);
    for (const s of [...NEVER_A_LABEL, "x".repeat(41), "My App"]) expect(isDeploymentName(s)).toBe(false);
  });

  test("validateDeploymentName returns the name or throws bad_request with the rule as hint", () => {
    expect(validateDeploymentName("hello")).toBe("hello");
    const err = refusal(() => validateDeploymentName("My App"));
    expect(err.kind).toBe("bad_request");
    expect(err.message).toBe('invalid name "My App"');
    expect(err.hint).toBe("use 1–40 lowercase letters, digits or '-', starting and ending with a letter or digit");
    expect(refusal(() => validateDeploymentName("x".repeat(100))).message).toBe(`invalid name "${"x".repeat(60)}"`);
  });

  test("generated names are valid names", () => {
    for (let i = 0; i < 200; i++) {
      const name = generateDeploymentName();
      expect(name).toMatch(/^[a-z]+-[a-z]+-[a-z0-9]{4}$/);
      expect(isDeploymentName(name)).toBe(true);
    }
  });

  test("the exported pattern is the predicate (what zod schemas use)", () => {
    for (const s of ["a", "x".repeat(40), "x".repeat(41), "-a"]) expect(DEPLOYMENT_NAME.test(s)).toBe(isDeploymentName(s));
  });
});

describe("workload ids", () => {
  test("DNS labels of 1–40, like deployment names", () => {
    for (const s of ["echo", "w", "notebook-2", "x".repeat(40)]) expect(isWorkloadId(s)).toBe(true);
    for (const s of [...NEVER_A_LABEL, "x".repeat(41)]) expect(isWorkloadId(s)).toBe(false);
  });
});

describe("tenant ids", () => {
  test("isTenantId: DNS labels of 1–63", () => {
    for (const s of ["a", "acme-42", "x".repeat(63)]) expect(isTenantId(s)).toBe(true);
    for (const s of [...NEVER_A_LABEL, "x".repeat(64)]) expect(isTenantId(s)).toBe(false);
  });
});

describe("validateTenantId", () => {
  test("accepts DNS labels: lowercase letters, digits and inner '-', 1–63 long", () => {
    for (const id of ["a", "0", "acme", "acme-42", "t-1", "9--x", "x".repeat(63)]) {
      expect(validateTenantId(id)).toBe(id);
    }
  });

  test.each([
    ["../x"],
    [".."],
    ["."],
    ["a/b"],
    ["/abs"],
    ["a\\b"],
    ["A"],
    ["Acme"],
    [""],
    ["x".repeat(64)],
    [" x"],
    ["x "],
    ["x\n"],
    ["\nx"],
    ["a\0b"],
    ["-x"],
    ["_x"],
    ["a_b"],
    ["x-"],
    ["é"],
    ["tenant-ü"],
    ["ｘ"],
    ["a.b"],
    ["a b"],
    ["a:b"],
  ])("refuses %j", (id) => {
    const err = refusal(() => validateTenantId(id));
    expect(err.kind).toBe("bad_request");
    expect(err.message).toContain("tenant id");
    expect(err.hint).toBeTruthy();
  });

  test("messages say what is wrong", () => {
    expect(refusal(() => validateTenantId("")).message).toBe("tenant id is empty");
    expect(refusal(() => validateTenantId("x".repeat(64))).message).toContain("64 characters long, over 63");
    expect(refusal(() => validateTenantId("Acme-1")).hint).toBe('tenant ids are lowercase: use "acme-1"');
    expect(refusal(() => validateTenantId("../x")).hint).toContain("lowercase letters, digits");
  });
});

describe("pool member ids", () => {
  test("1–63 of a-z 0-9 '_' '-', starting with a letter or digit", () => {
    for (const s of ["a", "k3x9a0b1c2", "m_1", "m-", "x".repeat(63)]) expect(isMemberId(s)).toBe(true);
    for (const s of ["", "_m", "-m", "M1", "m.1", "m/1", "..", "x".repeat(64)]) expect(isMemberId(s)).toBe(false);
  });
});

describe("env var names", () => {
  test("letters, digits and '_', not starting with a digit", () => {
    for (const s of ["A", "_", "a", "PATH", "_x1", "S3_SECRET", "lower_case"]) expect(isEnvName(s)).toBe(true);
    for (const s of ["", "1A", "A-B", "A B", "A=B", "A.B", "Ä", "A\n", "${A}"]) expect(isEnvName(s)).toBe(false);
  });

  test("the unanchored pattern embeds in a parser and matches the same names", () => {
    const inner = new RegExp(`^(${ENV_NAME_PATTERN}):-`);
    expect(inner.exec("S3_KEY:-x")?.[1]).toBe("S3_KEY");
    expect(inner.exec("1A:-x")).toBeNull();
    expect(ENV_NAME.source).toBe(`^${ENV_NAME_PATTERN}$`);
  });
});

describe("forbidden deployment env names", () => {
  test.each([
    "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "ld_preload", "DYLD_INSERT_LIBRARIES", "GLIBC_TUNABLES",
    "HTTP_PROXY", "https_proxy", "Https_Proxy", "ALL_PROXY", "NO_PROXY", "no_proxy", "FTP_PROXY",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
    "GIT_SSH_COMMAND", "GIT_CONFIG_GLOBAL", "DOCKER_HOST", "DOCKER_CONFIG", "BUILDKIT_HOST",
    "PATH", "HOME", "BASH_ENV", "ENV", "TMPDIR",
  ])("refuses %s", (name) => {
    expect(isForbiddenEnvName(name)).toBe(true);
    expect(forbiddenEnvMessage(name)).toStartWith(`env ${name} is not allowed: `);
  });

  test.each(["DATABASE_URL", "NODE_ENV", "NODE_OPTIONS", "RAILPACK_BUILD_CMD", "PROXY_URL", "MY_PATH", "LDAP_URL", "ENVIRONMENT", "GITHUB_TOKEN", "SECRET_KEY"])(
    "allows %s",
    (name) => {
      expect(isForbiddenEnvName(name)).toBe(false);
      expect(forbiddenEnvMessage(name)).toBeNull();
    },
  );

  test("each family says why", () => {
    expect(forbiddenEnvReason("LD_PRELOAD")).toContain("loader");
    expect(forbiddenEnvReason("HTTPS_PROXY")).toContain("proxy");
    expect(forbiddenEnvReason("SSL_CERT_FILE")).toContain("certificate");
  });

  test("validateDeploymentEnv: a bad_request naming the first forbidden key, with a hint", () => {
    expect(() => validateDeploymentEnv({ A: "1", NODE_OPTIONS: "--max-old-space-size=512" })).not.toThrow();
    const err = refusal(() => validateDeploymentEnv({ A: "1", LD_PRELOAD: "/tmp/x.so" }));
    expect(err.kind).toBe("bad_request");
    expect(err.message).toBe("env LD_PRELOAD is not allowed: loader and C library variables change how every program starts");
    expect(err.hint).toBe(FORBIDDEN_ENV_HINT);
  });
});

describe("S3 bucket names", () => {
  test("3–63 of a-z 0-9 '.' '-', a letter or digit at either end", () => {
    for (const s of ["abc", "kiln-state", "my.bucket.1", "x".repeat(63)]) expect(isS3Bucket(s)).toBe(true);
    for (const s of ["", "ab", "x".repeat(64), "-abc", "abc-", ".abc", "Abc", "a_b", "a/b", "x:y", "a b c"]) expect(isS3Bucket(s)).toBe(false);
  });
});

describe("image references", () => {
  test("a letter or digit, then letters, digits and . _ - / : @", () => {
    for (const s of ["node:20-bookworm-slim", "kiln/node-runtime:20-host", "registry.example.com:5000/a/b@sha256:abc", "Busybox"]) expect(isImageRef(s)).toBe(true);
    for (const s of ["", "-x", ":tag", "/abs", "a b", "a\nFROM x", "a;b", "a$b", "'a'"]) expect(isImageRef(s)).toBe(false);
  });
});
