/**
 * Pure: the Caddy `logging` config that sends the ingress server's access log to Kiln
 * (access-log.ts listens). One JSON line per request over TCP to `address` (Caddy's `net` writer).
 * Each line keeps only what the stats need — method, host, path, status, duration, size: the query
 * string, headers, client address and user are filtered out in Caddy, so no token in a URL or a
 * cookie ever leaves it this way. The default log (Caddy's own output, caddy.log) leaves the access
 * log out, so it does not grow with traffic.
 *
 * Caddy refuses a config whose `net` address does not answer at load time, so Kiln listens before it
 * loads any; if Kiln goes away, Caddy keeps serving and writes the lines it cannot send to its own
 * output until Kiln is back and loads its config again.
 */
export const ACCESS_LOGGER = "http.log.access";
export const ACCESS_LOG_NAME = "kiln-access";

const drop = { filter: "delete" };

export function accessLogging(address: string): Record<string, unknown> {
  return {
    logs: {
      default: { exclude: [ACCESS_LOGGER] },
      [ACCESS_LOG_NAME]: {
        writer: { output: "net", address },
        encoder: {
          format: "filter",
          wrap: { format: "json" },
          fields: {
            "request>uri": { filter: "regexp", regexp: "\\?.*$", value: "" },
            "request>headers": drop,
            "request>remote_ip": drop,
            "request>remote_port": drop,
            "request>tls": drop,
            user_id: drop,
            resp_headers: drop,
          },
        },
        include: [ACCESS_LOGGER],
      },
    },
  };
}
