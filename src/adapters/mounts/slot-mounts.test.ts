/**
 * SlotMounts against a fake kernel (a mount table in memory that the fake `mount`/`umount`
 * edit): which commands run in which order, rollback, busy and refused unmounts.
 * The real thing, with Docker containers, is test/pools/slot-mounts.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { SlotMounts } from "./slot-mounts.ts";

interface FakeMount {
  id: number;
  parent: number;
  root: string;
  point: string;
  ro: boolean;
  shared: boolean;
  private: boolean;
}

class FakeKernel {
  mounts: FakeMount[] = [{ id: 1, parent: 0, root: "/", point: "/", ro: false, shared: false, private: true }];
  calls: string[][] = [];
  #next = 2;
  /** Answer a command with this instead of doing it. */
  refuse: ((argv: string[]) => { code: number; tail: string[] } | null) | null = null;

  exec = async (argv: string[]): Promise<{ code: number; tail: string[] }> => {
    this.calls.push(argv);
    const refused = this.refuse?.(argv);
    if (refused) return refused;
    const paths = argv.slice(argv.indexOf("--") + 1);
    const [a, b] = paths as [string, string];
    const op = argv.slice(0, argv.indexOf("--")).join(" ");
    switch (op) {
      case "mount --bind":
      case "mount --bind -o ro": {
        const parent = this.#top(b) ?? this.#covering(b);
        const source = this.#top(a);
        this.mounts.push({
          id: this.#next++,
          parent: parent.id,
          root: a,
          point: b,
          ro: op.endsWith("ro") || (source?.ro ?? false),
          shared: parent.shared,
          private: !parent.shared,
        });
        return { code: 0, tail: [] };
      }
      case "mount --make-rshared":
        this.#top(a)!.shared = true;
        return { code: 0, tail: [] };
      case "mount --make-private":
        Object.assign(this.#top(a)!, { shared: false, private: true });
        return { code: 0, tail: [] };
      case "umount":
      case "umount --lazy": {
        const top = this.#top(a);
        if (!top) return { code: 32, tail: [`umount: ${a}: not mounted.`] };
        this.mounts = this.mounts.filter((m) => m !== top);
        return { code: 0, tail: [] };
      }
    }
    throw new Error(`unexpected ${argv.join(" ")}`);
  };

  mountinfo = async (): Promise<string> =>
    this.mounts
      .map((m) => `${m.id} ${m.parent} 254:0 ${m.root} ${m.point} ${m.ro ? "ro" : "rw"}${m.shared ? ` shared:${m.id}` : ""} - ext4 /dev/vda rw`)
      .join("\n");

  #top(point: string): FakeMount | undefined {
    return this.mounts.filter((m) => m.point === point).at(-1);
  }

  #covering(path: string): FakeMount {
    return [...this.mounts].sort((x, y) => y.point.length - x.point.length).find((m) => path.startsWith(m.point))!;
  }
}

const base = realpathSync(mkdtempSync(join(tmpdir(), "kiln-slot-unit-")));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

const ROOT_STATUS = "Name:\tkiln\nCapEff:\t000001ffffffffff\n";

function setup(procStatus = ROOT_STATUS) {
  const dir = join(base, String(n++));
  const kernel = new FakeKernel();
  const slots = new SlotMounts({
    slotsRoot: join(dir, "slots"),
    stagingRoot: join(dir, "staging"),
    exec: kernel.exec,
    readMountInfo: kernel.mountinfo,
    readProcStatus: async () => procStatus,
  });
  const tenant = { state: join(dir, "t", "state"), secrets: join(dir, "t", "secrets") };
  mkdirSync(tenant.state, { recursive: true });
  mkdirSync(tenant.secrets, { recursive: true });
  return { dir, kernel, slots, tenant };
}

describe("SlotMounts (fake kernel)", () => {
  test("prepare: slots bound onto itself and shared, staging private; idempotent", async () => {
    const { dir, kernel, slots } = setup();
    await slots.prepare();
    expect(kernel.calls).toEqual([
      ["mount", "--bind", "--", `${dir}/slots`, `${dir}/slots`],
      ["mount", "--make-rshared", "--", `${dir}/slots`],
      ["mount", "--bind", "--", `${dir}/staging`, `${dir}/staging`],
    ]);
    kernel.calls = [];
    await slots.prepare();
    expect(kernel.calls).toEqual([]);
  });

  test("concurrent prepares (explicit and implied) bind the roots once", async () => {
    const { dir, kernel, slots } = setup();
    await Promise.all([slots.prepare(), slots.attached(), slots.prepare()]);
    expect(kernel.mounts.filter((m) => m.point === `${dir}/slots`)).toHaveLength(1);
    expect(kernel.calls.filter((c) => c.includes("--bind"))).toHaveLength(2);
  });

  test("attach: state bound, secrets staged read-only then bound; detach undoes it, slots first", async () => {
    const { dir, kernel, slots, tenant } = setup();
    await slots.prepare();
    const slot = await slots.slotFor("m1");
    expect(slot).toEqual({ state: `${dir}/slots/m1/state`, secrets: `${dir}/slots/m1/secrets` });
    expect(existsSync(slot.state) && existsSync(slot.secrets)).toBe(true);
    kernel.calls = [];
    await slots.attach("m1", tenant);
    expect(kernel.calls).toEqual([
      ["mount", "--bind", "--", tenant.state, slot.state],
      ["mount", "--bind", "-o", "ro", "--", tenant.secrets, `${dir}/staging/m1-secrets`],
      ["mount", "--bind", "--", `${dir}/staging/m1-secrets`, slot.secrets],
    ]);
    expect(kernel.mounts.find((m) => m.point === slot.secrets)?.ro).toBe(true);
    expect(await slots.attached()).toEqual(["m1"]);

    await expect(slots.attach("m1", tenant)).rejects.toMatchObject({ kind: "conflict" });

    kernel.calls = [];
    expect(await slots.detach("m1")).toEqual({
      unmounted: [slot.secrets, slot.state, `${dir}/staging/m1-secrets`],
      lazy: [],
    });
    expect(kernel.calls.map((c) => c[0])).toEqual(["umount", "umount", "umount"]);
    expect(await slots.attached()).toEqual([]);
    expect(existsSync(`${dir}/slots/m1`)).toBe(false);
    expect(existsSync(`${dir}/staging/m1-secrets`)).toBe(false);
    // idempotent
    expect(await slots.detach("m1")).toEqual({ unmounted: [], lazy: [] });
  });

  test("a member already attached is refused, also by a new SlotMounts that learns it from mountinfo", async () => {
    const { dir, kernel, slots, tenant } = setup();
    await slots.prepare();
    await slots.attach("m1", tenant);
    kernel.calls = [];
    await expect(slots.attach("m1", tenant)).rejects.toThrow(/already has tenant directories attached/);
    expect(kernel.calls).toEqual([]); // refused before any mount
    const restarted = new SlotMounts({ slotsRoot: join(dir, "slots"), stagingRoot: join(dir, "staging"), exec: kernel.exec, readMountInfo: kernel.mountinfo, readProcStatus: async () => ROOT_STATUS });
    await expect(restarted.attach("m1", tenant)).rejects.toThrow(/already has tenant directories attached/);
    await restarted.detach("m1");
    await restarted.attach("m1", tenant); // free again once detached
    expect(await restarted.attached()).toEqual(["m1"]);
  });

  test("writable secrets: one plain bind", async () => {
    const { kernel, slots, tenant } = setup();
    await slots.prepare();
    kernel.calls = [];
    await slots.attach("m2", { secrets: tenant.secrets, secretsReadOnly: false });
    expect(kernel.calls).toEqual([["mount", "--bind", "--", tenant.secrets, (await slots.slotFor("m2")).secrets]]);
  });

  test("a failed secrets bind rolls the state bind back", async () => {
    const { kernel, slots, tenant } = setup();
    await slots.prepare();
    kernel.refuse = (argv) => (argv.includes("ro") ? { code: 32, tail: ["mount: /x: special device /y does not exist."] } : null);
    const err = await slots.attach("m3", tenant).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect(err).toMatchObject({ kind: "unavailable" });
    expect((err as Error).message).toContain("special device /y does not exist");
    expect(await slots.attached()).toEqual([]);
    expect(kernel.calls.at(-1)).toEqual(["umount", "--", (await slots.slotFor("m3")).state]);
  });

  test("without CAP_SYS_ADMIN: prepare (and so attach) refuses before running anything", async () => {
    const { kernel, slots, tenant } = setup("Name:\tkiln\nCapEff:\t0000000000000000\n");
    for (const attempt of [() => slots.prepare(), () => slots.attach("m0", tenant)]) {
      const err = (await attempt().catch((e: unknown) => e)) as KilnError;
      expect(err.kind).toBe("unavailable");
      expect(err.message).toContain("lacks CAP_SYS_ADMIN");
      expect(err.hint).toContain("Kiln's tenant pools need root to bind tenant directories into pre-warmed containers");
    }
    expect(kernel.calls).toEqual([]);
  });

  test("mount says not permitted: unavailable, with the hint", async () => {
    const { kernel, slots, tenant } = setup();
    await slots.prepare();
    kernel.refuse = () => ({
      code: 32,
      tail: ["mount: /s: must be superuser to use mount.", "       dmesg(1) may have more information after failed mount system call."],
    });
    const err = (await slots.attach("m4", tenant).catch((e: unknown) => e)) as KilnError;
    expect(err.kind).toBe("unavailable");
    expect(err.message).toBe("cannot bind tenant state for member m4: mount: /s: must be superuser to use mount.");
    expect(err.hint).toContain("Kiln's tenant pools need root to bind tenant directories into pre-warmed containers");
  });

  test("busy unmount falls back to lazy and says so", async () => {
    const { kernel, slots, tenant } = setup();
    await slots.prepare();
    await slots.attach("m5", { state: tenant.state });
    const slot = await slots.slotFor("m5");
    kernel.refuse = (argv) => (argv.join(" ") === `umount -- ${slot.state}` ? { code: 32, tail: [`umount: ${slot.state}: target is busy.`] } : null);
    expect(await slots.detach("m5")).toEqual({ unmounted: [slot.state], lazy: [slot.state] });
    expect(kernel.calls.at(-1)).toEqual(["umount", "--lazy", "--", slot.state]);
  });

  test("refuses bad member ids and tenant paths", async () => {
    const { slots, tenant } = setup();
    await expect(slots.slotFor("../x")).rejects.toThrow("invalid pool member id");
    await expect(slots.attach("m6", { state: "relative" })).rejects.toThrow("absolute");
    await expect(slots.attach("m6", { state: `${tenant.state}-missing` })).rejects.toThrow("missing");
    expect(() => new SlotMounts({ slotsRoot: "/a", stagingRoot: "/a/b" })).toThrow("contain");
  });
});
