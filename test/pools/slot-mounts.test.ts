/**
 * SlotMounts for real: as root on this machine, with running Docker containers (uid 1000, all
 * capabilities dropped) whose slots are bound rslave. Attaching a tenant shows its directories
 * inside the running container at once; secrets are read-only inside; detaching takes them away
 * again; a second tenant never sees the first's files. Everything is cleaned up afterwards.
 * Each container also counts its loop's rounds in a directory of its own (/beat, outside the
 * slots): "nothing reached the tenant" is checked once the loop has provably run again, never
 * after a sleep. Attach and detach times are bench/slot-mounts.bench.ts's business.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { run } from "../../src/adapters/exec/run.ts";
import { isAtOrUnder, mountsUnder, parseMountInfo, topMountAt } from "../../src/adapters/mounts/mountinfo.ts";
import { SlotMounts } from "../../src/adapters/mounts/slot-mounts.ts";
import type { ContainerSpec } from "../../src/core/ports/runtime.ts";
import { ensureTenantDirs, tenantDirs, type TenantDirs } from "../../src/adapters/fs/tenant-dirs.ts";
import { ensureNodeBaseImage } from "../../src/adapters/docker/base-image.ts";
import { until } from "../helpers/wait.ts";

const BASE = "/tmp/kiln-test-slot-mounts";
const SLOTS = `${BASE}/slots`;
const STAGING = `${BASE}/staging`;
const DATA = `${BASE}/data`;
const BEATS = `${BASE}/beats`;
/** A cold machine assembles the base image first, and starts containers slowly. */
const COLD_MS = 120_000;
let image = "";
const SUITE = { "kiln.managed": "true", "kiln.test": "1", "kiln.test.suite": "slot-mounts" };
const OWNER = { uid: 1000, gid: 1000 };
const engine = new DockerEngine();
const slots = new SlotMounts({ slotsRoot: SLOTS, stagingRoot: STAGING });

/**
 * Reads the secret, shows what it sees, proves it is alive, tries to write the secrets; counts its
 * rounds in /beat/n. Each report is written aside and renamed into place, so a read never meets one
 * half-written (a plain `>` truncates first: a read in that instant saw an empty file).
 */
const LOOP = [
  "i=0;",
  "while true; do",
  "  cat /secrets/key > /state/.seen 2>/dev/null && mv /state/.seen /state/seen;",
  "  ls -A /state /secrets > /state/.listing 2>/dev/null && mv /state/.listing /state/listing;",
  "  { echo x > /secrets/probe; } 2> /state/.write-error; mv /state/.write-error /state/write-error 2>/dev/null;",
  "  date +%s > /state/.alive 2>/dev/null && mv /state/.alive /state/alive;",
  "  i=$((i+1)); echo $i > /beat/.n; mv /beat/.n /beat/n;",
  "  sleep 0.01;",
  "done",
].join(" ");

const mountinfo = async () => parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));

async function removeTestContainers(): Promise<void> {
  for (const c of await engine.listContainers({ "kiln.test.suite": "slot-mounts" })) await engine.removeContainer(c.id);
}

/** Unmount everything below BASE (deepest first), then delete it. Safe to run any time. */
async function cleanupMounts(): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const left = mountsUnder(await mountinfo(), BASE);
    if (left.length === 0) break;
    for (const m of left) await run({ argv: ["umount", "--lazy", "--", m.mountPoint] });
  }
  if (mountsUnder(await mountinfo(), BASE).length > 0) throw new Error(`mounts left under ${BASE}`);
  rmSync(BASE, { recursive: true, force: true });
}

async function startMember(memberId: string): Promise<string> {
  const slot = await slots.slotFor(memberId);
  const beat = `${BEATS}/${memberId}`;
  mkdirSync(beat, { recursive: true });
  chownSync(beat, OWNER.uid, OWNER.gid);
  const spec: ContainerSpec = {
    name: `kiln-test-slot-mounts-${memberId}`,
    image,
    labels: SUITE,
    env: {},
    cmd: ["sh", "-c", LOOP],
    network: "none",
    memoryBytes: 64 * 1024 * 1024,
    nanoCpus: 500_000_000,
    pidsLimit: 64,
    restartPolicy: "no",
    user: `${OWNER.uid}:${OWNER.gid}`,
    mounts: [
      { source: slot.state, target: "/state", readOnly: false, propagation: "rslave" },
      { source: slot.secrets, target: "/secrets", readOnly: true, propagation: "rslave" },
      { source: beat, target: "/beat", readOnly: false },
    ],
  };
  const id = await engine.createContainer(spec);
  await engine.startContainer(id);
  return id;
}

async function makeTenant(name: string, secret: string, files: Record<string, string> = {}): Promise<TenantDirs> {
  const dirs = tenantDirs(DATA, "notebook", name);
  await ensureTenantDirs(dirs, OWNER);
  writeFileSync(`${dirs.secrets}/key`, secret, { mode: 0o640 });
  chownSync(`${dirs.secrets}/key`, 0, OWNER.gid);
  for (const [file, text] of Object.entries(files)) writeFileSync(`${dirs.state}/${file}`, text);
  return dirs;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : null);

/** Poll until `check` holds (the container is already running: this is about the kernel, not a cold start). */
const within = (what: string, check: () => boolean) => until(what, async () => check(), 30_000);

/** How many rounds member `memberId`'s loop has completed (0 before its first). */
const rounds = (memberId: string) => Number.parseInt(read(`${BEATS}/${memberId}/n`) ?? "", 10) || 0;

/** Wait until the loop has completed `n` more rounds than `since`: everything it does in a round has happened. */
async function roundsPast(memberId: string, since: number, n = 2): Promise<void> {
  await until(`${memberId}'s loop to run ${n} more rounds`, async () => rounds(memberId) >= since + n, COLD_MS);
}

beforeAll(async () => {
  await removeTestContainers();
  await cleanupMounts();
  mkdirSync(BASE, { recursive: true });
  await slots.prepare();
  image = await ensureNodeBaseImage(engine); // assembled from the host's node on first use: slow on a fresh machine
}, 300_000);

afterAll(async () => {
  await removeTestContainers().catch((err: unknown) => console.error("container cleanup:", err));
  for (const id of await slots.attached().catch(() => [])) await slots.detach(id).catch(() => undefined);
  await cleanupMounts();
});

describe("SlotMounts on the real kernel, with Docker", () => {
  test("prepare: slotsRoot is a shared mount, staging a private one; idempotent", async () => {
    await slots.prepare();
    await slots.prepare();
    const mounts = await mountinfo();
    expect(mounts.filter((m) => m.mountPoint === SLOTS)).toHaveLength(1);
    expect(topMountAt(mounts, SLOTS)?.shared).not.toBeNull();
    expect(mounts.filter((m) => m.mountPoint === STAGING)).toHaveLength(1);
    expect(topMountAt(mounts, STAGING)).toMatchObject({ shared: null, master: null });
  });

  test("tenant A into a running container: state written, secret read, secrets read-only; detach takes it away", async () => {
    const a = await makeTenant("tenant-a", "secret-A", { "a-only.txt": "A's file" });
    await startMember("m1");
    // Before the claim its slot is root's: the workload (uid 1000) cannot write there.
    await roundsPast("m1", 0);
    expect(existsSync(`${SLOTS}/m1/state/alive`)).toBe(false);

    await slots.attach("m1", { state: a.state, secrets: a.secrets });
    await within("m1 reads A's secret into A's state", () => read(`${a.state}/seen`) === "secret-A");
    await within("m1 writes alive into A's state", () => read(`${a.state}/alive`) !== null);
    await within("m1 reports its write to /secrets", () => (read(`${a.state}/write-error`) ?? "").length > 0);
    expect(read(`${a.state}/write-error`)).toContain("Read-only file system");
    expect(existsSync(`${a.secrets}/probe`)).toBe(false);
    expect(read(`${a.state}/listing`)).toContain("a-only.txt");
    // The pre-claim writes stay in the member's slot, not in the tenant's state.
    expect(await slots.attached()).toEqual(["m1"]);

    const result = await slots.detach("m1");
    // The loop writes into /state all the time: an unmount may meet it busy and go lazy (see "busy mount").
    expect(result.unmounted).toEqual(expect.arrayContaining(result.lazy));
    expect(result.unmounted.sort()).toEqual([`${SLOTS}/m1/secrets`, `${SLOTS}/m1/state`, `${STAGING}/m1-secrets`]);

    // The container no longer reaches A: two more rounds of its loop leave A's state alone.
    rmSync(`${a.state}/seen`);
    await roundsPast("m1", rounds("m1"));
    expect(existsSync(`${a.state}/seen`)).toBe(false);
    expect(existsSync(`${SLOTS}/m1`)).toBe(false);
    expect(existsSync(`${STAGING}/m1-secrets`)).toBe(false);
    const mounts = await mountinfo();
    expect(mounts.filter((m) => isAtOrUnder(m.mountPoint, `${SLOTS}/m1`) || isAtOrUnder(m.mountPoint, `${STAGING}/m1-secrets`))).toEqual([]);
    expect(await slots.attached()).toEqual([]);
    // A's data survived the slot removal.
    expect(read(`${a.state}/a-only.txt`)).toBe("A's file");
    expect(read(`${a.secrets}/key`)).toBe("secret-A");
  }, 300_000);

  test("tenant B on a second container never sees A's files", async () => {
    const a = tenantDirs(DATA, "notebook", "tenant-a");
    const aAliveBefore = read(`${a.state}/alive`);
    const b = await makeTenant("tenant-b", "secret-B");
    await startMember("m2");
    await roundsPast("m2", 0);
    await slots.attach("m2", { state: b.state, secrets: b.secrets });
    await within("m2 reads B's secret", () => read(`${b.state}/seen`) === "secret-B");
    await within("m2 lists its view", () => (read(`${b.state}/listing`) ?? "").includes("key"));
    const listing = read(`${b.state}/listing`)!;
    expect(listing).not.toContain("a-only.txt");
    expect(listing).toContain("seen");
    expect(read(`${b.state}/seen`)).toBe("secret-B");
    expect(read(`${a.state}/alive`)).toBe(aAliveBefore);
    expect(existsSync(`${a.state}/listing`) && read(`${a.state}/listing`)!.includes("secret-B")).toBe(false);

    // A new SlotMounts (Kiln restarted) finds the attachment in mountinfo, and can detach it.
    const afterCrash = new SlotMounts({ slotsRoot: SLOTS, stagingRoot: STAGING });
    expect(await afterCrash.attached()).toEqual(["m2"]);
    await expect(afterCrash.attach("m2", { state: b.state })).rejects.toMatchObject({ kind: "conflict" });
    expect((await afterCrash.detach("m2")).unmounted).toHaveLength(3);
    expect(await slots.attached()).toEqual([]);
    expect(mountsUnder(await mountinfo(), `${SLOTS}/m2`)).toEqual([]);
  }, 300_000);

  test("busy mount: detach falls back to a lazy unmount and says so", async () => {
    const d = await makeTenant("tenant-d", "secret-D");
    await slots.attach("busy1", { state: d.state });
    // A process with its working directory on the mount keeps it busy.
    const holder = Bun.spawn(["sleep", "30"], { cwd: (await slots.slotFor("busy1")).state });
    try {
      const result = await slots.detach("busy1");
      expect(result.lazy).toEqual([`${SLOTS}/busy1/state`]);
      expect(mountsUnder(await mountinfo(), `${SLOTS}/busy1`)).toEqual([]);
      expect(existsSync(`${SLOTS}/busy1`)).toBe(false);
    } finally {
      holder.kill();
      await holder.exited;
    }
  });

  test("without root, or without CAP_SYS_ADMIN: prepare refuses with a hint saying why", async () => {
    const script = `${BASE}/prepare-as.ts`;
    writeFileSync(
      script,
      `import { SlotMounts } from ${JSON.stringify(`${import.meta.dir}/../../src/adapters/mounts/slot-mounts.ts`)};
const s = new SlotMounts({ slotsRoot: "${BASE}/unprivileged/slots", stagingRoot: "${BASE}/unprivileged/staging" });
try { await s.prepare(); console.log(JSON.stringify({ ok: true })); }
catch (e) { console.log(JSON.stringify({ kind: e.kind, message: e.message, hint: e.hint })); }
`,
      { mode: 0o644 },
    );
    const as = async (wrapper: string[]) => {
      const res = await run({ argv: [...wrapper, process.execPath, script], env: { HOME: "/tmp" } });
      return JSON.parse(res.tail.at(-1) ?? "{}") as { kind?: string; message?: string; hint?: string; ok?: boolean };
    };
    const asUser = await as(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]);
    const asRootWithoutCap = await as(["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin"]);
    for (const [who, err] of [["uid 1000", asUser], ["uid 0", asRootWithoutCap]] as const) {
      expect(err.kind).toBe("unavailable");
      expect(err.message).toBe(`cannot bind mount: this process (${who}) lacks CAP_SYS_ADMIN`);
      expect(err.hint).toBe("Kiln's tenant pools need root to bind tenant directories into pre-warmed containers (run Kiln as root)");
    }
    expect(existsSync(`${BASE}/unprivileged`)).toBe(false);
  });
});
