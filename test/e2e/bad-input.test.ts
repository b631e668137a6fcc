/**
 * Bad input against the real Kiln: every one answered clearly (a 4xx naming what is wrong, or a
 * failed deployment whose failureReason says why), nothing written outside the data dir, no
 * partial source left behind, and secrets never shown back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { encodeEntry, encodeTar, type TarInputEntry } from "../../src/formats/tar/writer.ts";
import { BLOCK, FIELD, headerChecksum } from "../../src/formats/tar/format.ts";
import { paxRecord } from "../../src/formats/tar/encode.ts";
import type { LogLine } from "../../src/core/logs.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { until } from "../helpers/wait.ts";

/** Unique per run: every file an attack might create carries it in its name. */
const U = `kiln-bad-${process.pid}-${Date.now().toString(36)}`;
const PWNED = `/tmp/${U}-pwned`;
const SECRET_VALUE = "s3cr3t-value-xyz";
const GIT_TOKEN = "tok-abc-123456";
const UNREACHABLE_GIT = "git://127.0.0.1:9/none.git";

let kiln: TestKiln;
let dataDir: string;

beforeAll(async () => {
  // One Kiln for the file, with a 1 MiB upload cap (every other upload here is a few KiB).
  kiln = await startTestKiln({ KILN_MAX_UPLOAD_MB: "1" });
  dataDir = kiln.config.dataDir;
});

afterAll(async () => {
  await kiln?.stop();
  for (const name of readdirSync("/tmp")) if (name.startsWith(U)) rmSync(join("/tmp", name), { recursive: true, force: true });
});

type Json = Record<string, any>;

const postJson = (path: string, body: unknown) =>
  kiln.api(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } });

async function errorOf(res: Response, status: number): Promise<{ kind: string; message: string; hint?: string }> {
  const text = await res.text();
  expect(`${res.status} ${text}`).toStartWith(`${status} `);
  const body = JSON.parse(text) as Json;
  expect(typeof body.error?.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

async function deploymentCount(): Promise<number> {
  return ((await (await kiln.api("/deployments")).json()) as Json).deployments.length;
}

async function upload(bytes: Uint8Array, name?: string): Promise<Json> {
  const res = await kiln.api(`/deployments/upload${name ? `?name=${name}` : ""}`, { method: "POST", body: bytes });
  expect(res.status).toBe(202);
  return (await res.json()) as Json;
}

/** Upload, wait for the end, expect `failed`; returns the final deployment. */
async function uploadExpectingFailure(bytes: Uint8Array, timeoutMs = 30_000): Promise<Json> {
  const dep = await upload(bytes);
  const done = await kiln.waitFor(dep.id, ["failed", "running", "stopped"], timeoutMs);
  expect(done.status).toBe("failed");
  expect(done.failureReason).toEqual(expect.any(String));
  return done;
}

/** Every path under `root` (recursive) whose name contains `marker`. */
function namesContaining(root: string, marker: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.name.includes(marker)) found.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  if (existsSync(root)) walk(root);
  return found;
}

/** Nothing named after `marker` outside the data dir (its parent, shallowly) nor anywhere inside it. */
function expectNoLeaks(marker: string) {
  const parent = dirname(dataDir);
  expect(readdirSync(parent).filter((n) => n.includes(marker))).toEqual([]);
  expect(namesContaining(dataDir, marker)).toEqual([]);
  expect(existsSync(PWNED)).toBe(false);
}

/** No build's work directory (and so no partial source tree) is left in <dataDir>/builds. */
function expectNoBuildLeftovers() {
  const builds = join(dataDir, "builds");
  expect(existsSync(builds) ? readdirSync(builds) : []).toEqual([]);
}

/** Upload files that reached Kiln only in passing (refused uploads) must not linger. */
function expectNoIncomingUploads() {
  const uploads = join(dataDir, "uploads");
  expect((existsSync(uploads) ? readdirSync(uploads) : []).filter((n) => n.startsWith("incoming-"))).toEqual([]);
}

/** A raw HTTP/1.1 WebSocket handshake: the status line and whatever body came with it. */
function wsHandshake(path: string): Promise<{ status: number; text: string }> {
  const url = new URL(kiln.apiUrl);
  return new Promise((resolve, reject) => {
    let buf = "";
    const sock = connect(Number(url.port), url.hostname, () => {
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const finish = () => {
      sock.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf)?.[1] ?? 0);
      resolve({ status, text: buf });
    };
    const timer = setTimeout(finish, 3000);
    sock.on("data", (d) => {
      buf += d.toString();
      const head = buf.indexOf("\r\n\r\n");
      if (head < 0) return;
      if (buf.startsWith("HTTP/1.1 101")) return (clearTimeout(timer), finish());
      const length = Number(/content-length: *(\d+)/i.exec(buf.slice(0, head))?.[1] ?? -1);
      if (length >= 0 && Buffer.byteLength(buf.slice(head + 4)) >= length) (clearTimeout(timer), finish());
    });
    sock.on("close", () => (clearTimeout(timer), finish()));
    sock.on("error", reject);
  });
}

/** A git deployment that fails fast (nothing listens on port 9). */
async function unreachableGitDeployment(body: Json = {}): Promise<Json> {
  const res = await postJson("/deployments", { gitUrl: UNREACHABLE_GIT, ...body });
  expect(res.status).toBe(202);
  return (await res.json()) as Json;
}

describe("auth", () => {
  test("no token → 401 saying the token is missing", async () => {
    const res = await fetch(`${kiln.apiUrl}/api/v1/deployments`);
    const err = await errorOf(res, 401);
    expect(err.message).toContain("missing API token");
    expect(err.hint).toContain("Authorization: Bearer");
  });

  test("a wrong token → 401 saying it is wrong (also on writes)", async () => {
    const wrong = { authorization: `Bearer ${"x".repeat(kiln.token.length)}` };
    expect((await errorOf(await fetch(`${kiln.apiUrl}/api/v1/deployments`, { headers: wrong }), 401)).message).toContain("wrong");
    const post = await fetch(`${kiln.apiUrl}/api/v1/deployments`, {
      method: "POST",
      headers: { ...wrong, "content-type": "application/json" },
      body: JSON.stringify({ gitUrl: UNREACHABLE_GIT }),
    });
    await errorOf(post, 401);
    const short = await fetch(`${kiln.apiUrl}/api/v1/deployments`, { headers: { authorization: "Bearer nope" } });
    await errorOf(short, 401);
    const basic = await fetch(`${kiln.apiUrl}/api/v1/deployments`, { headers: { authorization: `Basic ${kiln.token}` } });
    await errorOf(basic, 401);
    expect(await deploymentCount()).toBe(0);
  });

  test("?token= is only for WebSockets, not plain requests", async () => {
    await errorOf(await fetch(`${kiln.apiUrl}/api/v1/deployments?token=${kiln.token}`), 401);
  });

  test("/health and /openapi.json need no token", async () => {
    const res = await fetch(`${kiln.apiUrl}/api/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, docker: true, caddy: true });
    expect((await fetch(`${kiln.apiUrl}/api/v1/openapi.json`)).status).toBe(200);
  });

  test("an unknown route → 404 with a message", async () => {
    const err = await errorOf(await kiln.api("/no-such-thing"), 404);
    expect(err.message).toContain("/no-such-thing");
  });

  test("WebSocket logs: the upgrade without a token gets 401; with ?token= it upgrades", async () => {
    const dep = await unreachableGitDeployment({ name: "ws-auth" });
    const path = `/api/v1/deployments/${dep.id}/logs`;

    const none = await wsHandshake(path);
    expect(none.status).toBe(401);
    expect(none.text).toContain("missing API token");
    const wrong = await wsHandshake(`${path}?token=${"y".repeat(kiln.token.length)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain("wrong");

    const ok = await wsHandshake(`${path}?token=${kiln.token}`);
    expect(ok.status).toBe(101);
    const lines = await kiln.logs(dep.id, { until: (ls) => ls.length > 0, timeoutMs: 5000 });
    expect(lines[0]!.seq).toBe(1);

    // a bad since is a 400, an unknown deployment a 404, both before upgrading
    expect((await wsHandshake(`${path}?since=abc&token=${kiln.token}`)).status).toBe(400);
    expect((await wsHandshake(`/api/v1/deployments/nope/logs?token=${kiln.token}`)).status).toBe(404);

    await kiln.waitFor(dep.id, ["failed"], 30_000);
    expect((await kiln.api(`/deployments/${dep.id}`, { method: "DELETE" })).status).toBe(204);
  });
});

/**
 * A raw HTTP/1.1 POST: with `declared`, a Content-Length header and only a few body bytes; else a
 * chunked body that never ends (64 KiB chunks, as fast as the server reads). Resolves with the
 * answer, the body bytes written by then, and whether the server then closed the connection.
 */
function rawPost(path: string, body: { declared: number } | "endless"): Promise<{ status: number; text: string; sent: number; closed: boolean }> {
  const url = new URL(kiln.apiUrl);
  return new Promise((resolve, reject) => {
    let buf = "";
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const sock = connect(Number(url.port), url.hostname, () => {
      const framing = body === "endless" ? "Transfer-Encoding: chunked" : `Content-Length: ${body.declared}`;
      sock.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${kiln.token}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`);
      if (body !== "endless") return void sock.write("{\"gitUrl\":");
      const pump = () => {
        while (!answered && !sock.destroyed) {
          sock.write(`${chunk.length.toString(16)}\r\n`);
          sock.write(chunk);
          sent += chunk.length;
          if (!sock.write("\r\n")) return void sock.once("drain", pump);
        }
      };
      pump();
    });
    const result = (closed: boolean) => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf)?.[1] ?? 0);
      resolve({ status, text: buf.slice(buf.indexOf("\r\n\r\n") + 4), sent, closed });
      sock.destroy();
    };
    const timer = setTimeout(() => result(false), 20_000);
    sock.on("data", (d) => {
      buf += d.toString();
      if (/\r\n\r\n[\s\S]*\}$/.test(buf)) answered = true;
    });
    sock.on("close", () => (clearTimeout(timer), result(true)));
    sock.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
  });
}

describe("body caps: 413 naming the cap, refused while the body streams", () => {
  const JSON_CAP = 1024 * 1024; // KILN_MAX_JSON_KB's default

  test("a JSON route with a huge Content-Length → 413 before the body is sent, connection closed", async () => {
    const res = await rawPost("/api/v1/deployments", { declared: 10 * 1024 ** 3 });
    expect(res.status).toBe(413);
    const err = JSON.parse(res.text).error;
    expect(err).toMatchObject({ kind: "too_large", message: "the request body is over the 1 MiB cap for JSON requests" });
    expect(err.hint).toContain("KILN_MAX_JSON_KB");
    expect(res.closed).toBe(true);
  });

  test("a JSON route with a chunked body that never ends → 413 once past the cap, connection closed", async () => {
    const before = await deploymentCount();
    const res = await rawPost("/api/v1/deployments", "endless");
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).error.message).toContain("over the 1 MiB cap");
    expect(res.sent).toBeGreaterThan(JSON_CAP);
    expect(res.closed).toBe(true);
    expect(await deploymentCount()).toBe(before);
  });

  test("a JSON body over the cap sent without Content-Length (streamed) → 413", async () => {
    const before = await deploymentCount();
    const big = new TextEncoder().encode(JSON.stringify({ gitUrl: UNREACHABLE_GIT, env: { A: "x".repeat(JSON_CAP) } }));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < big.length; at += 64 * 1024) controller.enqueue(big.subarray(at, at + 64 * 1024));
        controller.close();
      },
    });
    const res = await kiln.api("/deployments", { method: "POST", body, headers: { "content-type": "application/json" } }).catch((e: unknown) => e);
    if (res instanceof Response) expect((await errorOf(res, 413)).message).toContain("over the 1 MiB cap for JSON requests");
    expect(await deploymentCount()).toBe(before);
  });

  test("a JSON body under the cap is read and validated as usual", async () => {
    const res = await postJson("/deployments", { gitUrl: UNREACHABLE_GIT, pad: "x".repeat(JSON_CAP / 2) });
    expect((await errorOf(res, 400)).message).toMatch(/Unrecognized key.*"pad"/);
  });

  test("the upload route takes its own cap: a huge Content-Length → 413 naming the upload cap", async () => {
    const res = await rawPost("/api/v1/deployments/upload", { declared: 10 * 1024 ** 3 });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).error.message).toBe(`the upload is ${10 * 1024 ** 3} bytes, over the limit: the upload cap is 1 MiB (1048576 bytes)`);
    expect(res.closed).toBe(true);
  });

  test("an upload that never ends is refused once past the upload cap (413, connection closed), nothing kept", async () => {
    const res = await rawPost("/api/v1/deployments/upload", "endless");
    // The server answers 413 and closes while this client is still writing; with unread bytes in its
    // receive buffer the server's kernel then sends a reset, which may discard the answer before this
    // client reads it (status 0). Either way the refusal came while the body streamed: the connection
    // closed, more than the cap (1 MiB) but far less than an endless body had been sent, and nothing was kept.
    if (res.status !== 0) {
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text).error.message).toContain("the upload cap is 1 MiB");
    }
    expect(res.closed).toBe(true);
    expect(res.sent).toBeGreaterThan(1024 * 1024);
    expectNoIncomingUploads();
  });
});

describe("bad JSON bodies → 400 naming the field", () => {
  const cases: [string, unknown, RegExp][] = [
    ["missing gitUrl", { ref: "main" }, /^gitUrl: /],
    ["an unknown field", { gitUrl: UNREACHABLE_GIT, branch: "main" }, /Unrecognized key.*"branch"/],
    ["an env key that is not a shell name", { gitUrl: UNREACHABLE_GIT, env: { "BAD-KEY": "1" } }, /^env\.BAD-KEY: env keys must be shell-style names/],
    ["an env key with a space", { gitUrl: UNREACHABLE_GIT, env: { "A B": "1" } }, /^env\.A B: env keys must be shell-style names/],
    ["env containing PORT", { gitUrl: UNREACHABLE_GIT, env: { PORT: "8080" } }, /^env: PORT is set by Kiln/],
    ["an env value that is not a string", { gitUrl: UNREACHABLE_GIT, env: { A: 1 } }, /env/],
    ["env LD_PRELOAD (a loader variable)", { gitUrl: UNREACHABLE_GIT, env: { LD_PRELOAD: "/tmp/x.so" } }, /^env LD_PRELOAD is not allowed: loader/],
    ["env https_proxy (a proxy variable, any case)", { gitUrl: UNREACHABLE_GIT, env: { https_proxy: "http://127.0.0.1:9" } }, /^env https_proxy is not allowed: proxy/],
    ["env SSL_CERT_FILE (a certificate variable)", { gitUrl: UNREACHABLE_GIT, env: { OK: "1", SSL_CERT_FILE: "/tmp/ca.pem" } }, /^env SSL_CERT_FILE is not allowed: certificate/],
    ["name \"My App\"", { gitUrl: UNREACHABLE_GIT, name: "My App" }, /name/],
    ["name \"-x\"", { gitUrl: UNREACHABLE_GIT, name: "-x" }, /name/],
    ["a 41-character name", { gitUrl: UNREACHABLE_GIT, name: "a".repeat(41) }, /name/],
    ["a 64-character name", { gitUrl: UNREACHABLE_GIT, name: "a".repeat(64) }, /name/],
    ["an empty name", { gitUrl: UNREACHABLE_GIT, name: "" }, /name/],
    ["gitUrl of the wrong type", { gitUrl: 42 }, /gitUrl/],
    ["an empty gitToken", { gitUrl: UNREACHABLE_GIT, gitToken: "" }, /gitToken/],
  ];

  test.each(cases)("%s", async (_what, body, field) => {
    const err = await errorOf(await postJson("/deployments", body), 400);
    expect(err.kind).toBe("bad_request");
    expect(err.message).toMatch(field);
    expect(await deploymentCount()).toBe(0);
  });

  test("a forbidden env name: the 400's hint says what to do instead", async () => {
    const err = await errorOf(await postJson("/deployments", { gitUrl: UNREACHABLE_GIT, env: { GIT_SSH_COMMAND: "sh -c id" } }), 400);
    expect(err.message).toStartWith("env GIT_SSH_COMMAND is not allowed: ");
    expect(err.hint).toContain("remove it from env");
    expect(await deploymentCount()).toBe(0);
  });

  test("a body that is not JSON → 400", async () => {
    const err = await errorOf(await postJson("/deployments", "{gitUrl: nope"), 400);
    expect(err.kind).toBe("bad_request");
    expect(err.message).toContain("JSON");
    await errorOf(await postJson("/deployments", "[]"), 400);
    expect(await deploymentCount()).toBe(0);
  });

  test("a taken name → 409", async () => {
    const first = await unreachableGitDeployment({ name: "taken" });
    const err = await errorOf(await postJson("/deployments", { gitUrl: UNREACHABLE_GIT, name: "taken" }), 409);
    expect(err.kind).toBe("conflict");
    expect(err.message).toContain("taken");
    // the upload route refuses it too, and keeps nothing of the refused upload
    const up = await kiln.api("/deployments/upload?name=taken", { method: "POST", body: encodeTar([{ path: "index.html", type: "file", data: "hi" }]) });
    await errorOf(up, 409);
    const uploads = readdirSync(join(dataDir, "uploads"));
    expect(uploads).toEqual([]);
    await kiln.waitFor(first.id, ["failed"], 30_000);
    expect((await kiln.api(`/deployments/${first.id}`, { method: "DELETE" })).status).toBe(204);
  });

  test("an invalid name on upload → 400, the upload not kept", async () => {
    const res = await kiln.api(`/deployments/upload?name=${encodeURIComponent("My App")}`, { method: "POST", body: encodeTar([{ path: "index.html", type: "file", data: "hi" }]) });
    expect((await errorOf(res, 400)).message).toMatch(/name/);
    expect(readdirSync(join(dataDir, "uploads"))).toEqual([]);
    expect(await deploymentCount()).toBe(0);
  });
});

describe("bad git sources → 400 before anything runs", () => {
  const cases: [string, Json, RegExp][] = [
    ["--upload-pack", { gitUrl: `--upload-pack=touch ${PWNED}` }, /must not start with '-'/],
    ["-oProxyCommand", { gitUrl: `-oProxyCommand=touch ${PWNED}` }, /must not start with '-'/],
    ["ext:: remote helper", { gitUrl: `ext::sh -c touch% ${PWNED}` }, /whitespace|remote helper/],
    ["ext:: without spaces", { gitUrl: `ext::sh%-c%touch%${PWNED}` }, /remote helper/],
    ["file://", { gitUrl: "file:///etc" }, /local file/],
    ["a local path", { gitUrl: "/etc/passwd" }, /local paths/],
    ["a relative local path", { gitUrl: "../../etc" }, /local paths/],
    ["a password in the URL", { gitUrl: "https://user:pass@host/x.git" }, /password/],
    ["plain http://", { gitUrl: "http://example.com/x.git" }, /http:\/\/ scheme/],
    ["ssh with an option host", { gitUrl: `ssh://-oProxyCommand=touch%20${PWNED.replaceAll("/", "%2F")}/repo` }, /'-'/],
    ["a ref starting with --", { gitUrl: UNREACHABLE_GIT, ref: "--foo" }, /ref.*must not start with '-'/],
    ["a ref with --upload-pack", { gitUrl: UNREACHABLE_GIT, ref: `--upload-pack=touch ${PWNED}` }, /ref/],
    ["a ref with a space", { gitUrl: UNREACHABLE_GIT, ref: "a b" }, /ref.*whitespace/],
    ["a ref with ..", { gitUrl: UNREACHABLE_GIT, ref: "a..b" }, /ref/],
  ];

  test.each(cases)("%s", async (_what, body, why) => {
    const err = await errorOf(await postJson("/deployments", body), 400);
    expect(err.kind).toBe("bad_request");
    expect(err.message).toMatch(why);
    expect(err.hint).toEqual(expect.any(String));
    expect(await deploymentCount()).toBe(0);
    expect(existsSync(PWNED)).toBe(false);
  });

  test("the password hint points at gitToken, and the password is not echoed", async () => {
    const err = await errorOf(await postJson("/deployments", { gitUrl: "https://user:hunter2-pw@host/x.git" }), 400);
    expect(err.hint).toContain("gitToken");
    expect(JSON.stringify(err)).not.toContain("hunter2-pw");
  });

  test("nothing ran: nothing stored to build, no /tmp/pwned, no build directories", async () => {
    // Each request above was refused before anything was stored, and a build job exists only for a
    // stored deployment: with none stored, there is no job that could still run.
    expect(await deploymentCount()).toBe(0);
    expect(existsSync(PWNED)).toBe(false);
    expectNoBuildLeftovers();
  });
});

describe("bad tarballs → failed, naming the entry, nothing written outside", () => {
  const app = (extra: TarInputEntry[]): Uint8Array =>
    encodeTar([{ path: "index.html", type: "file", data: "<h1>hi</h1>" }, ...extra]);

  test("an entry ../escape", async () => {
    const name = `${U}-escape.txt`;
    const done = await uploadExpectingFailure(
      app([
        { path: `../${name}`, type: "file", data: "escaped" },
        { path: `../../../../${name}`, type: "file", data: "escaped" },
      ]),
    );
    expect(done.failureReason).toContain(`"../${name}"`);
    expect(done.failureReason).toContain("escapes the source directory");
    expect(done.currentBuild.steps.map((s: Json) => [s.name, s.ok])).toEqual([["source", false]]);
    expectNoLeaks(U);
    expectNoBuildLeftovers();
  });

  test("an absolute path", async () => {
    const abs = `/tmp/${U}-absolute.txt`;
    const done = await uploadExpectingFailure(app([{ path: abs, type: "file", data: "absolute" }]));
    expect(done.failureReason).toContain(JSON.stringify(abs));
    expect(done.failureReason).toContain("absolute path");
    expect(existsSync(abs)).toBe(false);
    expectNoLeaks(U);
    expectNoBuildLeftovers();
  });

  test("a symlink to /etc, then a file written through it", async () => {
    const before = { text: readFileSync("/etc/passwd", "utf8"), mtime: statSync("/etc/passwd").mtimeMs };
    const done = await uploadExpectingFailure(
      app([
        { path: "link", type: "symlink", linkname: "/etc" },
        { path: "link/passwd", type: "file", data: before.text }, // same bytes: harmless even if it got through
        { path: `link/${U}-through-link`, type: "file", data: "through" },
      ]),
    );
    expect(done.failureReason).toContain('"link"');
    expect(done.failureReason).toContain("/etc");
    expect(readFileSync("/etc/passwd", "utf8")).toBe(before.text);
    expect(statSync("/etc/passwd").mtimeMs).toBe(before.mtime);
    expect(existsSync(`/etc/${U}-through-link`)).toBe(false);
    expectNoLeaks(U);
    expectNoBuildLeftovers();
  });

  test("a relative symlink climbing out, then a file written through it", async () => {
    const target = `/tmp/${U}-target`;
    mkdirSync(target);
    const done = await uploadExpectingFailure(
      app([
        { path: "up", type: "symlink", linkname: `../../../../${U}-target` },
        { path: "up/pwned", type: "file", data: "through" },
      ]),
    );
    expect(done.failureReason).toContain('"up"');
    expect(done.failureReason).toContain("outside the source directory");
    expect(readdirSync(target)).toEqual([]);
    rmSync(target, { recursive: true });
    expectNoLeaks(U);
    expectNoBuildLeftovers();
  });

  test("a file written through a symlink that stays inside is refused too", async () => {
    const done = await uploadExpectingFailure(
      app([
        { path: "real", type: "directory" },
        { path: "alias", type: "symlink", linkname: "real" },
        { path: "alias/x.txt", type: "file", data: "x" },
      ]),
    );
    expect(done.failureReason).toContain('"alias/x.txt"');
    expect(done.failureReason).toContain("symlink");
    expectNoBuildLeftovers();
  });

  test("a hard link to a file outside", async () => {
    const done = await uploadExpectingFailure(app([{ path: "hl", type: "hardlink", linkname: "/etc/passwd" }]));
    expect(done.failureReason).toContain('"hl"');
    expect(done.failureReason).toContain("hard link");
    expectNoBuildLeftovers();
  });

  test("a character device entry", async () => {
    const done = await uploadExpectingFailure(app([{ path: `${U}-tty`, type: "character-device", mode: 0o666 }]));
    expect(done.failureReason).toContain(`"${U}-tty"`);
    expect(done.failureReason).toContain("character-device");
    expectNoLeaks(U);
    expectNoBuildLeftovers();
  });

  test("a fifo entry", async () => {
    const done = await uploadExpectingFailure(app([{ path: "pipe", type: "fifo" }]));
    expect(done.failureReason).toContain('"pipe"');
    expect(done.failureReason).toContain("fifo");
    expectNoBuildLeftovers();
  });

  test("a pax header over the 1 MiB cap (2 MiB, gzipped to a few KiB) → failed, naming the cap", async () => {
    const records = new TextEncoder().encode(paxRecord("comment", "v".repeat(2 * 1024 * 1024)));
    const pax = encodeEntry({ path: "pax", type: "file", data: records });
    pax[FIELD.typeflag[0]] = "x".charCodeAt(0);
    pax.set(new TextEncoder().encode(`${headerChecksum(pax.subarray(0, BLOCK)).toString(8).padStart(6, "0")}\0 `), FIELD.checksum[0]);
    const tar = Bun.gzipSync(Buffer.concat([pax, app([])]));
    const done = await uploadExpectingFailure(tar);
    expect(done.failureReason).toContain(`a pax header of ${records.length} bytes is over the 1 MiB cap`);
    expectNoBuildLeftovers();
  });

  test("a body that is not a tar archive", async () => {
    const done = await uploadExpectingFailure(new TextEncoder().encode("this is not a tarball\n".repeat(100)));
    expect(done.failureReason).toContain("not a valid tar or tar.gz archive");
    expectNoBuildLeftovers();
  });

  test("a gzip stream that is cut short", async () => {
    const tar = app([{ path: "noise.bin", type: "file", data: crypto.getRandomValues(new Uint8Array(60_000)) }]);
    const gz = Bun.gzipSync(tar as Uint8Array<ArrayBuffer>);
    const cut = gz.subarray(0, gz.length >> 1);
    const done = await uploadExpectingFailure(cut);
    expect(done.failureReason).toMatch(/not a valid tar or tar\.gz archive/);
    expectNoBuildLeftovers();
  });

  test("an empty body → 400 at once, nothing created", async () => {
    const err = await errorOf(await kiln.api("/deployments/upload", { method: "POST", body: new Uint8Array(0) }), 400);
    expect(err.message).toMatch(/no body|empty/);
    expect(err.hint).toContain("--data-binary");
    const none = await errorOf(await kiln.api("/deployments/upload", { method: "POST" }), 400);
    expect(none.message).toMatch(/no body|empty/);
    expectNoIncomingUploads();
  });

  test("an upload over the cap → 413, nothing kept", async () => {
    const before = await deploymentCount();
    const big = new Uint8Array(2 * 1024 * 1024);
    const err = await errorOf(await kiln.api("/deployments/upload", { method: "POST", body: big }), 413);
    expect(err.kind).toBe("too_large");
    expect(err.message).toContain(String(1024 * 1024));
    expect(err.hint).toContain("KILN_MAX_UPLOAD_MB");
    expect(await deploymentCount()).toBe(before);
    expectNoIncomingUploads();
  });

  test("an upload over the cap without a Content-Length (streamed) → 413, nothing kept", async () => {
    const before = await deploymentCount();
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await kiln.api("/deployments/upload", { method: "POST", body }).catch((e: unknown) => e);
    // the server may close the connection before the client finishes sending
    if (res instanceof Response) {
      const err = await errorOf(res, 413);
      expect(err.message).toContain("over the limit");
    }
    // The refused bytes are dropped once the server has seen the connection through: wait for that.
    await until("the refused upload's file to be removed", async () => {
      const uploads = join(dataDir, "uploads");
      return !(existsSync(uploads) && readdirSync(uploads).some((n) => n.startsWith("incoming-")));
    }, 30_000);
    expect(await deploymentCount()).toBe(before);
    expectNoIncomingUploads();
  });
});

describe("sources that build or start wrong", () => {
  test("nothing buildable (only a README) → failed, saying what was looked for", async () => {
    const done = await uploadExpectingFailure(encodeTar([{ path: "README.md", type: "file", data: "# nothing to run here\n" }]), 60_000);
    expect(done.failureReason).toContain("could not detect how to build this app");
    expect(done.failureReason).toMatch(/looked for/);
    expect(done.failureReason).toContain("package.json");
    expect(done.failureReason).toContain("Dockerfile");
    expect(done.currentBuild.steps.map((s: Json) => [s.name, s.ok])).toEqual([["source", true], ["build", false]]);
    expectNoBuildLeftovers();
  });

  test("an app that crashes on start → failed with its output and exit code, no container left", async () => {
    const pkg = { name: "crasher", version: "1.0.0", private: true, scripts: { start: `node -e "console.log('boom-marker'); process.exit(3)"` } };
    const dep = await upload(encodeTar([{ path: "package.json", type: "file", data: JSON.stringify(pkg, null, 2) }]), "crasher");
    const done = await kiln.waitFor(dep.id, ["failed", "running"], 120_000);
    expect(done.status).toBe("failed");
    expect(done.failureReason).toContain("boom-marker");
    expect(done.failureReason).toMatch(/code 3\b/);
    expect(done.currentBuild.steps.map((s: Json) => s.name)).toEqual(["source", "build", "run", "healthy"]);
    expect(done.currentBuild.steps.at(-1).ok).toBe(false);
    expect(await kiln.runtime.listContainers({ "kiln.deployment": dep.id })).toEqual([]);
    expect((await kiln.viaSubdomain("crasher")).status).toBe(404);
    expectNoBuildLeftovers();
  });
});

describe("secrets are never shown back", () => {
  test("env values and gitToken appear in no response, log line or failure reason", async () => {
    const res = await postJson("/deployments", { gitUrl: UNREACHABLE_GIT, name: "secretive", env: { SECRET_KEY: SECRET_VALUE }, gitToken: GIT_TOKEN });
    expect(res.status).toBe(202);
    const created = await res.text();
    const dep = JSON.parse(created) as Json;
    expect(dep.envKeys).toEqual(["SECRET_KEY"]);
    expect(dep.source).toEqual({ kind: "git", url: UNREACHABLE_GIT, ref: null });

    const done = await kiln.waitFor(dep.id, ["failed", "running"], 30_000);
    expect(done.status).toBe("failed");
    expect(done.failureReason).toContain("git failed");
    expect(done.envKeys).toEqual(["SECRET_KEY"]);

    const lines: LogLine[] = await kiln.logs(dep.id, { timeoutMs: 1500 });
    expect(lines.length).toBeGreaterThan(2);

    const seen = [
      created,
      await (await kiln.api(`/deployments/${dep.id}`)).text(),
      await (await kiln.api("/deployments/secretive")).text(),
      await (await kiln.api("/deployments")).text(),
      await (await kiln.api(`/deployments/${dep.id}/builds`)).text(),
      done.failureReason as string,
      JSON.stringify(lines),
    ];
    const basicAuth = Buffer.from(`x-access-token:${GIT_TOKEN}`).toString("base64");
    for (const text of seen) {
      expect(text).not.toContain(SECRET_VALUE);
      expect(text).not.toContain(GIT_TOKEN);
      expect(text).not.toContain(basicAuth);
    }

    // a redeploy carries the same secrets and still shows none of them
    expect((await kiln.api(`/deployments/${dep.id}/redeploy`, { method: "POST" })).status).toBe(202);
    const again = await until("the redeploy's build #2 to finish", async () => {
      const d = (await (await kiln.api(`/deployments/${dep.id}`)).json()) as Json;
      return d.currentBuild?.number === 2 && d.currentBuild.finishedAt !== null && ["failed", "running"].includes(d.status) && d;
    }, 30_000);
    const later = JSON.stringify([again, await kiln.logs(dep.id, { timeoutMs: 1000 })]);
    expect(later).not.toContain(SECRET_VALUE);
    expect(later).not.toContain(GIT_TOKEN);
    expectNoBuildLeftovers();
  });
});
