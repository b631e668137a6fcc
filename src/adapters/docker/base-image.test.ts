import { describe, expect, test } from "bun:test";
import { nodeBaseLabels, nodeImageChanges, nodeRuntimeRef } from "./base-image.ts";
import { etcFiles } from "./node-rootfs.ts";

describe("node base image", () => {
  test("ref and labels", () => {
    expect(nodeRuntimeRef(20)).toBe("kiln/node-runtime:20-host");
    expect(nodeBaseLabels("v20.1.0", { "kiln.test": "1" })).toEqual({
      "kiln.managed": "true",
      "kiln.base": "node",
      "kiln.base.version": "v20.1.0",
      "kiln.base.layout": "2",
      "kiln.test": "1",
    });
  });

  test("import changes: PATH, CA bundle for node and OpenSSL, WORKDIR, labels; HOME left to Docker", () => {
    const changes = nodeImageChanges({ "kiln.managed": "true", "kiln.base": "node" });
    expect(changes).toContain("ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt");
    expect(changes).toContain("ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt");
    expect(changes).toContain("WORKDIR /app");
    expect(changes).toContain('LABEL kiln.managed="true" kiln.base="node"');
    expect(changes.find((c) => c.startsWith("ENV PATH="))).toStartWith("ENV PATH=/usr/local/bin:");
    expect(changes.some((c) => c.includes("HOME"))).toBe(false);
  });

  test("users: root and app (1000); DNS through files then dns", () => {
    const etc = etcFiles();
    expect(etc["etc/passwd"]).toContain("root:x:0:0:root:/root:/bin/sh");
    expect(etc["etc/passwd"]).toContain("app:x:1000:1000:app:/home/app:/bin/sh");
    expect(etc["etc/group"]).toContain("app:x:1000:");
    expect(etc["etc/nsswitch.conf"]).toContain("hosts: files dns");
  });
});
