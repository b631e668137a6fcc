/**
 * Where a stream's offloaded segments sit under the offload prefix. Pure.
 *
 *   <stream dir>/<first seq>-<last seq>.kseg     e.g. tenant_3aecho_3aacme/000000000001-000000004096.kseg
 *
 * A stream key becomes one path segment: [a-z0-9-] as is, anything else `_` and two hex digits
 * (so "_" itself is "_5f"), so no two streams share a directory and none climbs out.
 */
import type { StreamKey } from "../core/logs.ts";

export function streamDir(stream: StreamKey): string {
  let out = "";
  for (const ch of Buffer.from(stream, "utf8")) {
    const c = String.fromCharCode(ch);
    out += /[a-z0-9-]/.test(c) ? c : `_${ch.toString(16).padStart(2, "0")}`;
  }
  return out === "" ? "_" : out;
}

const pad = (n: number) => String(n).padStart(12, "0");

export function segmentKey(stream: StreamKey, firstSeq: number, lastSeq: number): string {
  return `${streamDir(stream)}/${pad(firstSeq)}-${pad(lastSeq)}.kseg`;
}
