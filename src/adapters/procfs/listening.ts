/**
 * The TCP ports a container's processes listen on, seen from the host: the kernel's socket table of
 * the container's network namespace, read through its init process (`/proc/<pid>/net/tcp` and
 * `tcp6`; Kiln runs as root). Used when an app does not answer on $PORT, to find where it does.
 *
 *   parseListening(readFileSync(`/proc/${pid}/net/tcp`, "utf8"), 4)  // → [{ address: "0.0.0.0", port: 3000 }]
 */
import { readFile } from "node:fs/promises";

export interface ListeningSocket {
  /** "0.0.0.0", "127.0.0.1", "::", "::1", … */
  address: string;
  port: number;
}

const LISTEN = "0A";

/** The LISTEN sockets of one /proc/net/tcp{,6} table. */
export function parseListening(table: string, family: 4 | 6): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[3] !== LISTEN) continue;
    const [addrHex, portHex] = (cols[1] ?? "").split(":");
    if (!addrHex || !portHex) continue;
    const port = parseInt(portHex, 16);
    if (!Number.isInteger(port) || port <= 0) continue;
    out.push({ address: family === 4 ? ipv4(addrHex) : ipv6(addrHex), port });
  }
  return out;
}

/** Whether a socket listening there is reachable from outside the container (Docker's port proxy). */
export function reachable(s: ListeningSocket): boolean {
  return !(s.address.startsWith("127.") || s.address === "::1");
}

/** Every LISTEN socket of the network namespace of process `pid`; none when it is gone. */
export async function listeningSockets(pid: number): Promise<ListeningSocket[]> {
  if (!Number.isInteger(pid) || pid <= 0) return [];
  const read = (f: string) => readFile(`/proc/${pid}/net/${f}`, "utf8").catch(() => "");
  const [v4, v6] = await Promise.all([read("tcp"), read("tcp6")]);
  const seen = new Set<string>();
  return [...parseListening(v4, 4), ...parseListening(v6, 6)].filter((s) => {
    const key = `${s.address}|${s.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Little-endian hex (as /proc prints it) → dotted quad. */
function ipv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join(".");
}

/** Four little-endian 32-bit words → the two forms that matter here (any, loopback), else the words. */
function ipv6(hex: string): string {
  if (/^0{32}$/.test(hex)) return "::";
  if (hex === "00000000000000000000000001000000") return "::1";
  // ::ffff:a.b.c.d (an IPv4-mapped address) → its IPv4 form
  if (hex.startsWith("0000000000000000FFFF0000")) return ipv4(hex.slice(24));
  return hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join("")).join(":").toLowerCase();
}
