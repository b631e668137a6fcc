/**
 * Names for loopback addresses, so an SRV record (whose target must be a host name) can point at
 * 127.0.0.1: `127-0-0-1.ip.kiln` answers A 127.0.0.1. Only 127.0.0.0/8 is ever answered: upstreams
 * Kiln routes to are published on loopback.
 */
export const ADDRESS_ZONE = "ip.kiln";

export function addressName(ip: string): string {
  if (!isLoopbackV4(ip)) throw new Error(`not a loopback IPv4 address: ${ip}`);
  return `${ip.replaceAll(".", "-")}.${ADDRESS_ZONE}`;
}

/** The loopback address a name stands for, or null when the name is not one of these. */
export function addressOfName(name: string): string | null {
  const n = name.toLowerCase().replace(/\.$/, "");
  if (!n.endsWith(`.${ADDRESS_ZONE}`)) return null;
  const ip = n.slice(0, -ADDRESS_ZONE.length - 1).replaceAll("-", ".");
  return isLoopbackV4(ip) ? ip : null;
}

function isLoopbackV4(ip: string): boolean {
  const parts = ip.split(".");
  return parts.length === 4 && parts[0] === "127" && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}
