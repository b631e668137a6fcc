import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import {
  chownTree,
  discardIncoming,
  ensureTenantDirs,
  parseUser,
  prepareIncoming,
  swapInIncoming,
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
      incoming: "/var/lib/kiln/tenants/notebook/acme/state.incoming",
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

describe("ensureTenantDirs (as root, in a temp dir)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-tenant-dirs-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const mode = (p: string) => statSync(p).mode & 0o7777;

  test("creates the tree with owners and modes, idempotently", async () => {
    const dirs = tenantDirs(join(dataDir, "nested", "data"), "notebook", "acme");
    for (let i = 0; i < 2; i++) await ensureTenantDirs(dirs, { uid: 1000, gid: 1001 });
    expect(mode(join(dataDir, "nested", "data", "tenants"))).toBe(0o700);
    expect(mode(join(dataDir, "nested", "data", "tenants", "notebook"))).toBe(0o700);
    expect(mode(dirs.root)).toBe(0o700);
    expect(statSync(dirs.root).uid).toBe(0);
    expect(statSync(dirs.state)).toMatchObject({ uid: 1000, gid: 1001 });
    expect(mode(dirs.state)).toBe(0o700);
    expect(statSync(dirs.secrets)).toMatchObject({ uid: 0, gid: 1001 });
    expect(mode(dirs.secrets)).toBe(0o750);
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

describe("restore staging: prepareIncoming / swapInIncoming / discardIncoming (as root)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-tenant-incoming-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const owner = { uid: 1000, gid: 1001 };
  const rootEntries = (dirs: { root: string }) => readdirSync(dirs.root).sort();

  test("an empty state gets an empty incoming dir with state's owner and mode", async () => {
    const dirs = tenantDirs(dataDir, "w", "empty");
    await ensureTenantDirs(dirs, owner);
    expect(await prepareIncoming(dirs, owner)).toBe(dirs.incoming);
    expect(readdirSync(dirs.incoming)).toEqual([]);
    expect(lstatSync(dirs.incoming)).toMatchObject({ uid: 1000, gid: 1001 });
    expect(lstatSync(dirs.incoming).mode & 0o7777).toBe(0o700);
  });

  test("a non-empty state is copied whole (modes, times, owners, symlinks as symlinks); the swap puts incoming in place", async () => {
    const dirs = tenantDirs(dataDir, "w", "copied");
    await ensureTenantDirs(dirs, owner);
    mkdirSync(join(dirs.state, "sub"));
    writeFileSync(join(dirs.state, "sub", "f.txt"), "local", { mode: 0o640 });
    utimesSync(join(dirs.state, "sub", "f.txt"), 1_000_000, 1_000_000);
    symlinkSync("/etc/hostname", join(dirs.state, "link"));
    await chownTree(dirs.state, owner);
    await prepareIncoming(dirs, owner);
    const copy = join(dirs.incoming, "sub", "f.txt");
    expect(readFileSync(copy, "utf8")).toBe("local");
    expect(lstatSync(copy)).toMatchObject({ uid: 1000, gid: 1001, mtimeMs: 1_000_000_000 });
    expect(lstatSync(copy).mode & 0o777).toBe(0o640);
    expect(readlinkSync(join(dirs.incoming, "link"))).toBe("/etc/hostname");
    expect(lstatSync(dirs.incoming).mode & 0o7777).toBe(0o700);

    writeFileSync(copy, "restored"); // what a download would do
    writeFileSync(join(dirs.incoming, "new.txt"), "new");
    expect(readFileSync(join(dirs.state, "sub", "f.txt"), "utf8")).toBe("local"); // state untouched meanwhile
    await swapInIncoming(dirs);
    expect(readFileSync(join(dirs.state, "sub", "f.txt"), "utf8")).toBe("restored");
    expect(readFileSync(join(dirs.state, "new.txt"), "utf8")).toBe("new");
    expect(rootEntries(dirs)).toEqual(["secrets", "state"]);
  });

  test("discardIncoming removes a partial restore and leaves state as it was", async () => {
    const dirs = tenantDirs(dataDir, "w", "failed");
    await ensureTenantDirs(dirs, owner);
    writeFileSync(join(dirs.state, "keep.txt"), "keep");
    await prepareIncoming(dirs, owner);
    writeFileSync(join(dirs.incoming, "half.bin"), "partial");
    await discardIncoming(dirs);
    await discardIncoming(dirs); // absent: no error
    expect(rootEntries(dirs)).toEqual(["secrets", "state"]);
    expect(readdirSync(dirs.state)).toEqual(["keep.txt"]);
  });

  test("ensureTenantDirs repairs a restore cut short: between the renames the old state comes back; after them the old copy goes", async () => {
    const dirs = tenantDirs(dataDir, "w", "crashed");
    await ensureTenantDirs(dirs, owner);
    writeFileSync(join(dirs.state, "old.txt"), "old");
    await prepareIncoming(dirs, owner);
    writeFileSync(join(dirs.incoming, "old.txt"), "new");
    renameSync(dirs.state, join(dirs.root, "state.replaced")); // killed right after the first rename
    await ensureTenantDirs(dirs, owner);
    expect(rootEntries(dirs)).toEqual(["secrets", "state"]);
    expect(readFileSync(join(dirs.state, "old.txt"), "utf8")).toBe("old");

    await prepareIncoming(dirs, owner);
    mkdirSync(join(dirs.root, "state.replaced")); // killed after both renames, before the old copy was removed
    await ensureTenantDirs(dirs, owner);
    expect(rootEntries(dirs)).toEqual(["secrets", "state"]);
    expect(existsSync(dirs.incoming)).toBe(false);
  });
});
