import { describe, expect, test } from "bun:test";
import { isAtOrUnder, mountsAt, mountsUnder, parseMountInfo, parseMountInfoLine, topMountAt, unescapeMountPath } from "./mountinfo.ts";

// Taken from this machine (/proc/self/mountinfo), plus stacked and escaped entries.
const SAMPLE = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict
42 27 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw,discard
43 27 254:0 /srv/slots /srv/slots rw,relatime shared:2 - ext4 /dev/vda rw,discard
44 27 254:0 /srv/staging /srv/staging rw,relatime - ext4 /dev/vda rw,discard
45 44 254:0 /data/tenants/w/a/secrets /srv/staging/m1-secrets ro,relatime - ext4 /dev/vda rw,discard
46 43 254:0 /data/tenants/w/a/secrets /srv/slots/m1/secrets ro,relatime shared:3 - ext4 /dev/vda rw,discard
47 43 254:0 /data/tenants/w/a/state /srv/slots/m1/state rw,relatime shared:4 - ext4 /dev/vda rw,discard
48 47 254:0 /data/tenants/w/b/state /srv/slots/m1/state rw,relatime shared:5 - ext4 /dev/vda rw,discard
49 27 254:0 /my\\040dir /mnt/with\\040space\\011tab rw,relatime master:7 propagate_from:2 - ext4 /dev/vda rw
`;

describe("parseMountInfo", () => {
  const mounts = parseMountInfo(SAMPLE);

  test("reads every field", () => {
    expect(mounts).toHaveLength(10);
    expect(mounts[2]).toEqual({
      mountId: 42,
      parentId: 27,
      device: "254:0",
      root: "/var/lib/docker",
      mountPoint: "/var/lib/docker",
      options: ["rw", "relatime"],
      optional: ["shared:1"],
      shared: 1,
      master: null,
      fsType: "ext4",
      source: "/dev/vda",
      superOptions: ["rw", "discard"],
    });
    expect(mounts[0]).toMatchObject({ mountPoint: "/proc", optional: [], shared: null, master: null, fsType: "proc" });
  });

  test("unescapes octal in paths and reads slave fields", () => {
    expect(mounts[9]).toMatchObject({
      root: "/my dir",
      mountPoint: "/mnt/with space\ttab",
      optional: ["master:7", "propagate_from:2"],
      shared: null,
      master: 7,
    });
    expect(unescapeMountPath("a\\134b\\012c")).toBe("a\\b\nc");
  });

  test("skips malformed lines", () => {
    expect(parseMountInfoLine("")).toBeNull();
    expect(parseMountInfoLine("garbage")).toBeNull();
    expect(parseMountInfoLine("1 2 3:4 / /x rw shared:1")).toBeNull();
    expect(parseMountInfoLine("x 2 3:4 / /x rw - ext4 /dev/vda rw")).toBeNull();
    expect(parseMountInfo("junk\n\n" + SAMPLE.split("\n")[0])).toHaveLength(1);
  });

  test("a line without super options", () => {
    expect(parseMountInfoLine("1 2 0:5 / /x rw - tmpfs tmpfs")?.superOptions).toEqual([]);
  });
});

describe("queries", () => {
  const mounts = parseMountInfo(SAMPLE);

  test("mountsAt and topMountAt see stacked mounts", () => {
    expect(mountsAt(mounts, "/srv/slots/m1/state").map((m) => m.mountId)).toEqual([47, 48]);
    expect(topMountAt(mounts, "/srv/slots/m1/state")?.mountId).toBe(48);
    expect(topMountAt(mounts, "/srv/slots")?.shared).toBe(2);
    expect(topMountAt(mounts, "/srv/slots/m2")).toBeNull();
    // order in the file does not decide the top
    expect(topMountAt([mounts[8]!, mounts[7]!], "/srv/slots/m1/state")?.mountId).toBe(48);
  });

  test("mountsUnder: at or below, deepest and latest first", () => {
    expect(mountsUnder(mounts, "/srv/slots/m1").map((m) => m.mountId)).toEqual([48, 47, 46]);
    expect(mountsUnder(mounts, "/srv/slots").map((m) => m.mountId)).toEqual([48, 47, 46, 43]);
    expect(mountsUnder(mounts, "/srv/slots/m")).toEqual([]);
  });

  test("isAtOrUnder compares whole segments", () => {
    expect(isAtOrUnder("/a/b", "/a")).toBe(true);
    expect(isAtOrUnder("/a", "/a")).toBe(true);
    expect(isAtOrUnder("/ab", "/a")).toBe(false);
    expect(isAtOrUnder("/x", "/")).toBe(true);
  });
});
