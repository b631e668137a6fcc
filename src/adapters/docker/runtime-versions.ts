/**
 * The versions an app asks for, read the way the runtime images need them: pure.
 *
 * Node.js: .nvmrc, .node-version or engines.node, as a semver range after nvm's aliases (lts/*,
 * lts/-1, lts/<codename>, node, latest). The majors that satisfy it are the official images to
 * try, newest first and LTS lines before the others (an odd major is maintained for months only):
 *
 *   const range = readNodeRange("^20 || ^22");   // { majors: [22, 20], … }
 *   range.majors.map(officialNodeTag);            // ["node:22-bookworm-slim", "node:20-bookworm-slim"]
 *   nodeMajorSatisfies(range, 21);                // false
 *
 * Bun: the version "packageManager" names (bun@1.2.3), whose official image is oven/bun:1.2.3.
 */

/** LTS lines with an official bookworm-slim image, newest first. Add the new one each October. */
export const NODE_LTS_MAJORS: readonly number[] = [26, 24, 22, 20, 18];
/** nvm's names for LTS lines (lts/iron). */
const LTS_CODENAMES: Record<string, number> = { gallium: 16, hydrogen: 18, iron: 20, jod: 22, krypton: 24 };
/** nvm's names for "the newest release": any major will do. */
const ANY_ALIASES = new Set(["node", "latest", "current", "stable", "*"]);

export interface NodeRange {
  /** As the app wrote it. */
  text: string;
  /** The semver range it means (an alias resolved). */
  semver: string;
  /** The majors that satisfy it whose images are worth trying, in the order they are preferred. */
  majors: number[];
}

/** The range an app's Node.js version means, or null when it is not one Kiln can read. */
export function readNodeRange(text: string): NodeRange | null {
  const semver = aliasRange(text.trim().toLowerCase());
  if (semver === null) return null;
  const named = versionsIn(semver).map((v) => v.major).filter((m) => m >= 1);
  const range = { text, semver, majors: [] as number[] };
  const lts = NODE_LTS_MAJORS.filter((m) => nodeMajorSatisfies(range, m));
  const others = [...new Set(named)].filter((m) => !lts.includes(m) && nodeMajorSatisfies(range, m)).sort((a, b) => b - a);
  range.majors = [...lts, ...others];
  return range;
}

function aliasRange(text: string): string | null {
  if (ANY_ALIASES.has(text)) return "*";
  const lts = /^lts\/(.+)$/.exec(text)?.[1];
  if (lts !== undefined) {
    const back = lts === "*" ? 0 : /^-(\d+)$/.exec(lts)?.[1];
    const major = back !== undefined ? NODE_LTS_MAJORS[Number(back)] : LTS_CODENAMES[lts];
    return major === undefined ? null : String(major);
  }
  const range = text.replace(/(^|[\s=<>^~|-])v(?=\d)/g, "$1");
  return /^[\d.xX*^~<>=|\s-]+$/.test(range) && /[\d*xX]/.test(range) ? range : null;
}

/**
 * Whether some release of `major` satisfies the range: its first, a late one, or one the range
 * itself names (">=20.11 <20.12" is met by 20.11.0 only).
 */
export function nodeMajorSatisfies(range: Pick<NodeRange, "semver">, major: number): boolean {
  const named = versionsIn(range.semver).filter((v) => v.major === major).map((v) => v.version);
  return [`${major}.0.0`, `${major}.99999.99999`, ...named].some((v) => Bun.semver.satisfies(v, range.semver));
}

/** The versions a range names, completed with zeros: "^20.11 || 22" → 20.11.0, 22.0.0. */
function versionsIn(semver: string): { major: number; version: string }[] {
  return [...semver.matchAll(/(?<![\d.])(\d+)(?:\.(\d+))?(?:\.(\d+))?/g)].map((m) => ({
    major: Number(m[1]),
    version: `${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`,
  }));
}

/** The official image of a Node.js major. */
export function officialNodeTag(major: number): string {
  return `node:${major}-bookworm-slim`;
}

/** The Node major in an image tag: kiln/node-runtime:20-host → 20, node:22-bookworm-slim → 22. */
export function nodeMajorOf(ref: string): number | undefined {
  const tag = ref.slice(ref.lastIndexOf("/") + 1).split(":")[1];
  const m = tag ? /^v?(\d+)(?:[.-]|$)/.exec(tag) : null;
  return m ? Number(m[1]) : undefined;
}

/** The official Bun image for a version ("packageManager": "bun@1.2.3"), or the newest 1.x without one. */
export function officialBunTag(version?: string): string {
  if (version && /^\d[\w.-]{0,127}$/.test(version)) return `oven/bun:${version}`;
  const major = version ? bunMajorOf(version) : undefined;
  return `oven/bun:${major ?? 1}`;
}

/** "1.2.3" → 1; v-prefixed too; undefined for anything else. */
export function bunMajorOf(version: string): number | undefined {
  const m = /^v?(\d+)(?:\.|$)/.exec(version.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * The warning for an app that asked for a version no image here has, in one shape for every
 * runtime: `.nvmrc asks for Node.js 18 but no node:18 image is available (no registry answered);
 * building with the host's Node.js 20`.
 */
export function versionWarning(w: { from?: string; runtime: string; asked: string; missing: string[]; using: string }): string {
  const missing =
    w.missing.length === 0
      ? `Kiln knows no ${w.runtime} image that satisfies it`
      : `no ${w.missing.length === 1 ? w.missing[0] : `${w.missing.slice(0, -1).join(", ")} or ${w.missing.at(-1)}`} image is available (no registry answered)`;
  return `${w.from ?? "the app"} asks for ${w.runtime} ${w.asked} but ${missing}; building with ${w.using}`;
}
