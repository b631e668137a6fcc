/**
 * Hostile workload files for the fuzz suite: workloads/echo.yaml parsed, its tree mutated (values
 * of random types, unknown keys, missing keys, huge and negative numbers, invalid units, deep
 * nesting, `${...}` interpolation edge cases), written back as YAML (or JSON, which YAML reads),
 * then, now and then, mutated as text (alias bombs, merge keys, tags, tabs, several documents,
 * cut lines, random bytes).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Rng } from "./prng.ts";

/** The loader reads no file larger than 1 MiB (load.ts): no case is larger. */
const MAX_FILE_CHARS = 1024 * 1024;

export interface YamlCase {
  label: string;
  text: string;
  env: Record<string, string>;
}

const ECHO = readFileSync(join(import.meta.dir, "../../workloads/echo.yaml"), "utf8");
const ECHO_TREE = Bun.YAML.parse(ECHO) as Record<string, unknown>;

const SYNC = {
  sink: { type: "s3", bucket: "kiln-state", endpoint: "http://127.0.0.1:9000", region: "us-east-1", access_key_id: "${S3_KEY}", secret_access_key: "${S3_SECRET}", prefix: "echo/${tenantId}/", rclone_flags: ["--s3-force-path-style"] },
  mappings: [{ path: "/", direction: "bidirectional", mode: "sync" }],
  policy: { on_claim: true, on_release: true, periodic: "5m" },
};

const INTERPOLATIONS = [
  "${S3_KEY}", "${UNSET}", "${UNSET:-fallback}", "${EMPTY:-x}", "${", "${}", "$${literal}", "${tenantId}", "${1BAD}", "${A B}",
  "${A:-${B}}", "${A:-}", "$$$${X}", "${S3_KEY:-", "}${", "${" + "A".repeat(5000) + "}", "${lower_ok}", "$HOME", "${PATH}", "${S3_KEY}${S3_SECRET}",
];

const UNITS = ["1s", "0", "-1s", "1.5s", "1h30m", "10d", "1e3s", "5 m", "", "ms", "9999999999999999h", "1.0000001ms", "0.5ms", "512M", "2G", "-5M", "1.5", "1TiB", "100kb", "1Pb", "0.0001", "1000m", "NaN", "Infinity", "0x10"];

const KEYS = ["id", "name", "image", "volumes", "environment", "command", "healthcheck", "deploy", "read_only", "user", "network_mode", "ports", "pool", "sync",
  "cpus", "mem_limit", "restart", "privileged", "cap_add", "iamge", "__proto__", "constructor", "toString", "", " ", "ID", "pool.min_size", "<<"];

function scalar(rng: Rng): unknown {
  switch (rng.int(0, 13)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, 0.5, -0.0, 1e-320]);
    case 3: return rng.pick([Infinity, -Infinity, NaN]);
    case 4: return rng.pick(UNITS);
    case 5: return rng.pick(INTERPOLATIONS);
    case 6: return "x".repeat(rng.pick([0, 1, 255, 256, 1025, 5000, 100_000]));
    case 7: return String.fromCharCode(...Array.from({ length: rng.int(1, 30) }, () => rng.int(0, 0xffff)));
    case 8: return rng.pick(["/state", "/", "/proc/x", "../..", "a\0b", "/tmp", "//x", "/x/../y", "C:\\x", "/x:y"]);
    case 9: return rng.pick(["host", "none", "bridge", "container:x", "kiln/node-runtime:20-host", "deployment:x", "deployment:", "UPPER/Case", "a b"]);
    case 10: return rng.pick(["CMD", "CMD-SHELL", "NONE", "true", "false", "yes", "on", "~", "null"]);
    case 11: return rng.int(-100000, 100000);
    case 12: return rng.pick(["8080", "8080/tcp", "8080/sctp", "0", "65536", "1:2", "80/udp"]);
    default: return "plain";
  }
}

function randomValue(rng: Rng, depth = 0): unknown {
  const k = rng.int(0, 9);
  if (depth > 4 || k < 6) return scalar(rng);
  if (k < 8) return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = rng.int(0, 4); i > 0; i--) out[rng.pick([...KEYS, "container", "protocol", "path", "target", "test"])] = randomValue(rng, depth + 1);
  return out;
}

function deepNest(rng: Rng): unknown {
  let v: unknown = scalar(rng);
  for (let i = rng.int(10, 3000); i > 0; i--) v = rng.chance(0.5) ? [v] : { a: v };
  return v;
}

/** Every path to a value in the tree (objects and lists included). */
function paths(tree: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (prefix.length >= 12) return out; // not into deep nests (quadratic)
  if (Array.isArray(tree)) tree.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (tree !== null && typeof tree === "object") for (const [k, v] of Object.entries(tree)) paths(v, [...prefix, k], out);
  return out;
}

function setAt(tree: Record<string, unknown>, path: (string | number)[], value: unknown, remove = false): void {
  let node: any = tree;
  for (const seg of path.slice(0, -1)) node = node?.[seg];
  if (node === null || typeof node !== "object") return;
  const last = path.at(-1)!;
  if (remove) {
    if (Array.isArray(node) && typeof last === "number") node.splice(last, 1);
    else delete node[last];
  } else node[last] = value;
}

function mutateTree(rng: Rng, tree: Record<string, unknown>, label: string[]): void {
  const all = paths(tree).filter((p) => p.length > 0);
  const path = rng.pick(all);
  const where = path.join(".");
  switch (rng.int(0, 6)) {
    case 0: setAt(tree, path, scalar(rng)); label.push(`${where}=scalar`); break;
    case 1: setAt(tree, path, randomValue(rng)); label.push(`${where}=value`); break;
    case 2: setAt(tree, path, undefined, true); label.push(`-${where}`); break;
    case 3: tree[rng.pick(KEYS)] = randomValue(rng); label.push("+key"); break;
    case 4: setAt(tree, path, deepNest(rng)); label.push(`${where}=deep`); break;
    case 5: {
      let node: any = tree;
      for (const seg of path.slice(0, -1)) node = node[seg];
      if (node && typeof node === "object" && !Array.isArray(node)) node[rng.pick([...KEYS, "x_unknown", "interval_ms"])] = scalar(rng);
      label.push(`+key in ${path.slice(0, -1).join(".")}`);
      break;
    }
    default: setAt(tree, path, rng.pick(INTERPOLATIONS) + rng.pick(UNITS)); label.push(`${where}=interp`);
  }
}

// ───────────────────────────── text mutations ─────────────────────────────

function aliasBomb(rng: Rng): string {
  const levels = rng.int(3, 30);
  const width = rng.int(2, 12);
  let text = `a0: &a0 "${"lol".repeat(rng.int(1, 1000))}"\n`;
  for (let i = 1; i < levels; i++) text += `a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(", ")}]\n`;
  const at = rng.pick(["command", "environment", "ports", "x_bomb", "pool"]);
  return `${text}${at}: *a${levels - 1}\n`;
}

function mutateText(rng: Rng, text: string, label: string[]): string {
  const lines = text.split("\n");
  switch (rng.int(0, 11)) {
    case 0: label.push("alias bomb"); return `${ECHO.replace(/^command:[^]*?^healthcheck:/m, "healthcheck:")}\n${aliasBomb(rng)}`;
    case 1: label.push("merge key"); return `base: &b {id: x, image: busybox}\n<<: *b\n${text}`;
    case 2: label.push("tag"); return text.replace(/^(\w+): /m, `$1: ${rng.pick(["!!binary", "!!python/object:os.system", "!!set", "!!timestamp", "!!float", "!!str", "!custom", "!!map", "!!seq"])} `);
    case 3: label.push("tabs"); return text.replace(/^ {2}/gm, "\t");
    case 4: label.push("several documents"); return `${text}\n---\n${text}`;
    case 5: { const i = rng.int(0, lines.length - 1); label.push(`line ${i + 1} cut`); lines[i] = lines[i]!.slice(0, rng.int(0, lines[i]!.length)); return lines.join("\n"); }
    case 6: { const i = rng.int(0, lines.length - 1); label.push(`line ${i + 1} indented`); lines[i] = " ".repeat(rng.int(1, 9)) + lines[i]; return lines.join("\n"); }
    case 7: { const at = rng.int(0, text.length); label.push(`bytes @${at}`); return text.slice(0, at) + String.fromCharCode(...Array.from({ length: rng.int(1, 8) }, () => rng.int(0, 0x7f))) + text.slice(at); }
    case 8: label.push("duplicate key"); return `${text}\nid: again\n`;
    case 9: label.push("anchor reuse"); return `${text}\nx: &x 1\ny: &x 2\nz: *x\nw: *undefined_anchor\n`;
    case 10: label.push("long line"); return `${text}\nname: "${"n".repeat(rng.pick([1000, 100_000, 900_000]))}"\n`;
    default: label.push("BOM+CRLF"); return `\ufeff${text.replace(/\n/g, "\r\n")}`;
  }
}

/** One workload file, usually broken, sometimes valid. */
export function yamlCase(rng: Rng): YamlCase {
  const tree = structuredClone(ECHO_TREE);
  if (rng.chance(0.4)) tree.sync = structuredClone(SYNC);
  const label: string[] = [];
  for (let i = rng.chance(0.15) ? 0 : rng.int(1, 4); i > 0; i--) mutateTree(rng, tree, label);
  let text = rng.chance(0.2) ? JSON.stringify(tree, null, rng.pick([0, 2])) : Bun.YAML.stringify(tree, null, 2);
  if (rng.chance(0.3)) text = mutateText(rng, text, label);
  if (text.length > MAX_FILE_CHARS) text = JSON.stringify(tree); // deep nests indent a lot in block style
  if (text.length > MAX_FILE_CHARS) text = text.slice(0, MAX_FILE_CHARS);
  const env: Record<string, string> = { S3_KEY: "AKIAFUZZ", S3_SECRET: "fuzz-secret-value", EMPTY: "" };
  if (rng.chance(0.2)) delete env.S3_KEY;
  return { label: label.join("; ") || "echo.yaml", text, env };
}
