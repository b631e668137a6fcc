import { describe, expect, test } from "bun:test";
import { StepError } from "../../core/errors.ts";
import type { RuntimeRequest } from "../builders/plan.ts";
import { goImageChanges, goRuntimeRef, officialGoTags, parseGoVersion, resolveGoImage } from "./go-image.ts";
import { findHostGo, probeHostGo } from "./host-go.ts";
import { fakeHost, fakeImageRuntime } from "./testdata/fake-image-runtime.ts";

const HOST = "kiln/go-runtime:1.19-host";

async function choose(req: Omit<RuntimeRequest, "name">, world: { local?: string[]; pullable?: string[]; host?: string | null } = {}) {
  const runtime = fakeImageRuntime(world);
  const hostVersion = world.host === undefined ? "1.19.8" : world.host;
  const host = hostVersion === null ? async () => null : fakeHost(hostVersion, 1, HOST, runtime.calls);
  const got = await resolveGoImage({ name: "go", versionFrom: "go.mod", ...req }, { runtime, host });
  return { ...got, calls: runtime.calls };
}

async function chooseError(req: Omit<RuntimeRequest, "name">, world: { host?: string | null } = {}): Promise<StepError> {
  const err = await choose(req, world).then(
    () => new Error("expected a StepError"),
    (e: unknown) => e,
  );
  if (err instanceof StepError) return err;
  throw err;
}

describe("resolveGoImage", () => {
  test("golang:<go line> when local or pulled; the host is not probed", async () => {
    expect(await choose({ version: "1.22" }, { local: ["golang:1.22"] })).toEqual({ ref: "golang:1.22", calls: ["exists golang:1.22"] });
    const patch = await choose({ version: "1.22.3" }, { pullable: ["golang:1.22"] });
    expect(patch.ref).toBe("golang:1.22");
    expect(patch.calls).toEqual(["exists golang:1.22.3", "pull golang:1.22.3", "exists golang:1.22", "pull golang:1.22", "exists golang:1.22"]);
  });

  test("else the host's toolchain image; no warning when it is as new as the go line", async () => {
    expect(await choose({ version: "1.19" })).toEqual({ ref: HOST, calls: ["exists golang:1.19", "pull golang:1.19", "probe host", `host image ${HOST}`] });
  });

  test("a go line newer than the host's Go: its image, with a warning", async () => {
    const got = await choose({ version: "1.22" });
    expect(got.ref).toBe(HOST);
    expect(got.warnings).toEqual(["go.mod asks for Go 1.22 but no golang:1.22 image is available (no registry answered); building with the host's Go 1.19.8"]);
  });

  test("a three-part go line with a host Go older than 1.21 (which cannot read it): fails at once", async () => {
    const err = await chooseError({ version: "1.22.0" });
    expect(err.message).toBe("go.mod's go line (1.22.0) needs Go 1.21 or newer to read it; the only Go toolchain here is the host's Go 1.19.8");
    expect(err.hint).toContain('write the go line as "go 1.22"');
    expect((await choose({ version: "1.22.0" }, { host: "1.21.5" })).ref).toBe(HOST);
  });

  test("no image and no host toolchain: fails at once naming the image to provide", async () => {
    const err = await chooseError({ version: "1.22" }, { host: null });
    expect(err.message).toBe("Go apps need a Go toolchain image (golang:1.22); none is on this engine and no registry answered");
    expect(err.hint).toContain("docker load");
    expect(err.hint).toContain("apt-get install golang-go");
    expect(err.hint).toContain("add a Dockerfile");
  });

  test("no go line: Railpack's default Go", async () => {
    expect((await chooseError({}, { host: null })).message).toContain("(golang:1.25)");
  });
});

describe("go versions and the toolchain image", () => {
  test("parseGoVersion and the tags tried", () => {
    expect(parseGoVersion("1.22")).toEqual([1, 22]);
    expect(parseGoVersion("go1.21.5")).toEqual([1, 21, 5]);
    expect(parseGoVersion("1.23rc1")).toEqual([1, 23]);
    expect(parseGoVersion("latest")).toBeNull();
    expect(officialGoTags("1.22.3")).toEqual(["golang:1.22.3", "golang:1.22"]);
    expect(officialGoTags("1.22")).toEqual(["golang:1.22"]);
    expect(goRuntimeRef("1.19.8")).toBe(HOST);
  });

  test("import changes: the toolchain on PATH, GOPATH=/go, no cgo, no toolchain downloads", () => {
    const changes = goImageChanges({ "kiln.base": "go" });
    expect(changes).toContain("ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin");
    expect(changes).toContain("ENV GOROOT=/usr/local/go");
    expect(changes).toContain("ENV GOPATH=/go");
    expect(changes).toContain("ENV CGO_ENABLED=0");
    expect(changes).toContain("ENV GOTOOLCHAIN=local");
  });

  test("probe of this host's Go (golang-go, scripts/setup.sh): version, the parts go build needs, under the size cap", async () => {
    const env = { PATH: "/usr/local/bin:/usr/bin:/bin" };
    const go = await findHostGo(undefined, env);
    expect(go).not.toBeNull();
    const host = await probeHostGo(go!, env);
    expect(host.version).toMatch(/^1\.\d+(\.\d+)?$/);
    expect(host.parts.map((p) => p.to)).toEqual(expect.arrayContaining(["usr/local/go/bin", "usr/local/go/src", `usr/local/go/pkg/tool/${host.platform}`]));
    expect(host.parts.some((p) => p.to === `usr/local/go/pkg/${host.platform}`)).toBe(false); // precompiled std left out
    expect(host.bytes).toBeLessThan(500 * 1024 * 1024);
    expect(await findHostGo("/nonexistent/go")).toBeNull();
  });
});
