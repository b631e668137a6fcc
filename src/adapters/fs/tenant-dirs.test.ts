import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import {
  chownTree,
  ensureTenantDirs,
  isNewTenant,
  parseUser,
  tenantDirs,
} from "./tenant-dirs.ts";

function refusal(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    return err as KilnError;
  }
  throw new Error("expected a refusal");
}

describe("tenantDirs", () => {
  test("lays out <dataDir>/tenants/<workload>/<tenant>/{state,secrets}", () => {
    expect(tenantDirs("/var/lib/kiln", "notebook", "acme")).toEqual({
      root: "/var/lib/kiln/tenants/notebook/acme",
      state: "/var/lib/kiln/tenants/notebook/acme/state",
      secrets: "/var/lib/kiln/tenants/notebook/acme/secrets",
    });
    expect(tenantDirs("/data/", "w", "t").root).toBe("/data/tenants/w/t");
  });

  test("refuses ids that could leave the tree", () => {
    expect(refusal(() => tenantDirs("/d", "w", "../../etc")).kind).toBe("bad_request");
    expect(refusal(() => tenantDirs("/d", "..", "t")).kind).toBe("bad_request");
    expect(refusal(() => tenantDirs("/d", "a/b", "t")).kind).toBe("bad_request");
    expect(refusal(() => tenantDirs("/d", "", "t")).kind).toBe("bad_request");
  });
});

describe("parseUser", () => {
  test("uid and uid:gid", () => {
    expect(parseUser(null)).toBeNull();
    expect(parseUser("")).toBeNull();
    expect(parseUser("1000")).toEqual({ uid: 1000, gid: null });
    expect(parseUser("1000:1001")).toEqual({ uid: 1000, gid: 1001 });
    expect(parseUser("0:0")).toEqual({ uid: 0, gid: 0 });
  });

  test.each([["node"], ["1000:"], [":1000"], ["1000:staff"], ["-1"], ["1e3"], [" 1000"], ["99999999999"], ["1:2:3"]])(
    "refuses %j",
    (user) => {
      const err = refusal(() => parseUser(user));
      expect(err.kind).toBe("bad_request");
      expect(err.hint).toContain("numeric");
    },
  );
});

describe("ensureTenantDirs / isNewTenant (as root, in a temp dir)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-tenant-dirs-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const mode = (p: string) => statSync(p).mode & 0o7777;

  test("creates the tree with owners and modes, idempotently", async () => {
    const dirs = tenantDirs(join(dataDir, "nested", "data"), "notebook", "acme");
    expect(await isNewTenant(dirs)).toBe(true);
    for (let i = 0; i < 2; i++) await ensureTenantDirs(dirs, { uid: 1000, gid: 1001 });
    expect(mode(join(dataDir, "nested", "data", "tenants"))).toBe(0o700);
    expect(mode(join(dataDir, "nested", "data", "tenants", "notebook"))).toBe(0o700);
    expect(mode(dirs.root)).toBe(0o700);
    expect(statSync(dirs.root).uid).toBe(0);
    expect(statSync(dirs.state)).toMatchObject({ uid: 1000, gid: 1001 });
    expect(mode(dirs.state)).toBe(0o700);
    expect(statSync(dirs.secrets)).toMatchObject({ uid: 0, gid: 1001 });
    expect(mode(dirs.secrets)).toBe(0o750);
    expect(await isNewTenant(dirs)).toBe(true);
    writeFileSync(join(dirs.state, "notes.txt"), "hi");
    expect(await isNewTenant(dirs)).toBe(false);
  });

  test("without a known gid, secrets is world-readable (guarded by the 0700 tenant root)", async () => {
    const dirs = tenantDirs(dataDir, "notebook", "uidonly");
    await ensureTenantDirs(dirs, { uid: 1000, gid: null });
    expect(statSync(dirs.state)).toMatchObject({ uid: 1000, gid: 0 });
    expect(statSync(dirs.secrets)).toMatchObject({ uid: 0, gid: 0 });
    expect(mode(dirs.secrets)).toBe(0o755);
    const dflt = tenantDirs(dataDir, "notebook", "imageuser");
    await ensureTenantDirs(dflt, null);
    expect(statSync(dflt.state)).toMatchObject({ uid: 0, gid: 0 });
  });

  test("fixes modes it finds wrong, refuses a symlink in place of a directory", async () => {
    const dirs = tenantDirs(dataDir, "notebook", "fixme");
    await ensureTenantDirs(dirs, { uid: 1000, gid: 1000 });
    const { chmodSync } = await import("node:fs");
    chmodSync(dirs.secrets, 0o777);
    await ensureTenantDirs(dirs, { uid: 1000, gid: 1000 });
    expect(mode(dirs.secrets)).toBe(0o750);

    const evil = tenantDirs(dataDir, "notebook", "evil");
    mkdirSync(evil.root, { recursive: true });
    symlinkSync("/etc", evil.state);
    await expect(ensureTenantDirs(evil, { uid: 1000, gid: 1000 })).rejects.toThrow("symlink");
    expect(statSync("/etc").uid).toBe(0);
  });

  test("chownTree hands root-written state to the workload user", async () => {
    const dirs = tenantDirs(dataDir, "notebook", "downloaded");
    await ensureTenantDirs(dirs, { uid: 1000, gid: 1000 });
    mkdirSync(join(dirs.state, "sub"));
    writeFileSync(join(dirs.state, "sub", "f"), "x");
    symlinkSync("/etc/hostname", join(dirs.state, "link"));
    await chownTree(dirs.state, { uid: 1000, gid: 1000 });
    expect(statSync(join(dirs.state, "sub", "f")).uid).toBe(1000);
    expect(statSync("/etc/hostname").uid).toBe(0);
  });
});
