import { describe, expect, test } from "bun:test";
import { StepError } from "../../core/errors.ts";
import type { SyncSink } from "../../core/workload.ts";
import { bucketRemote, checkTenantId, expandPrefix, localPath, mappingRelPath, remotePath } from "./paths.ts";

const sink = (over: Partial<SyncSink> = {}): SyncSink => ({ type: "s3", bucket: "kiln-state", prefix: "tenants/${tenantId}/", rcloneFlags: [], ...over });

describe("expandPrefix", () => {
  test("puts the tenant id in and trims slashes", () => {
    expect(expandPrefix("tenants/${tenantId}/", "a")).toBe("tenants/a");
    expect(expandPrefix("/x//${tenantId}/state/", "t-1")).toBe("x/t-1/state");
    expect(expandPrefix("${tenantId}", "acme")).toBe("acme");
  });

  test("refuses tenant ids that are not one plain segment", () => {
    for (const bad of ["", "a/b", "..", "a..b", "../x", "a\\b", "a\nb"]) {
      expect(() => expandPrefix("tenants/${tenantId}/", bad)).toThrow(StepError);
    }
    expect(() => checkTenantId("ok_1.x")).not.toThrow();
  });

  test("refuses a prefix without ${tenantId} (tenants would share state) or with ..", () => {
    expect(() => expandPrefix("shared/", "a")).toThrow(/does not contain \$\{tenantId\}/);
    expect(() => expandPrefix("../${tenantId}", "a")).toThrow(/\.\./);
  });
});

describe("mappingRelPath", () => {
  test("root forms are the whole state dir", () => {
    expect(mappingRelPath("")).toBe("");
    expect(mappingRelPath("/")).toBe("");
    expect(mappingRelPath("./")).toBe("");
  });
  test("normalizes", () => {
    expect(mappingRelPath("/data/")).toBe("data");
    expect(mappingRelPath("a//b/./c")).toBe("a/b/c");
    expect(mappingRelPath("my file ü.db")).toBe("my file ü.db");
  });
  test("never climbs out", () => {
    expect(() => mappingRelPath("../etc")).toThrow(StepError);
    expect(() => mappingRelPath("a/../../b")).toThrow(StepError);
  });
});

describe("remote and local paths", () => {
  test("remote path is bucket/prefix/mapping", () => {
    expect(remotePath(sink(), "a", "")).toBe("kilns3:kiln-state/tenants/a");
    expect(remotePath(sink(), "a", "db/x.sqlite")).toBe("kilns3:kiln-state/tenants/a/db/x.sqlite");
    expect(bucketRemote(sink())).toBe("kilns3:kiln-state");
  });
  test("refuses a bucket name rclone could misread", () => {
    for (const bad of ["", "ab", "a/b", "x:y", "-abc", "a b c"]) expect(() => bucketRemote(sink({ bucket: bad }))).toThrow(StepError);
  });
  test("local path is under the state dir", () => {
    expect(localPath("/srv/state/", "")).toBe("/srv/state");
    expect(localPath("/srv/state", "db/x")).toBe("/srv/state/db/x");
  });
});
