/**
 * Extra rclone flags a workload may pass to its sync (e.g. `--s3-force-path-style`). rclone runs
 * on the host with the sink's credentials, so flags that read or write host files, run programs,
 * open servers, follow symlinks out of the state directory, redirect the sink or put secrets on
 * the command line are refused: the sink's own fields cover what they would be used for.
 */

const DENIED: Record<string, string> = {
  "--config": "Kiln gives rclone its configuration",
  "--password-command": "it runs a program on the host",
  "--ask-password": "rclone runs unattended",
  "--metadata-mapper": "it runs a program on the host",
  "--log-file": "it writes a file on the host",
  "--files-from": "it reads a file on the host",
  "--files-from-raw": "it reads a file on the host",
  "--include-from": "it reads a file on the host",
  "--exclude-from": "it reads a file on the host",
  "--filter-from": "it reads a file on the host",
  "--backup-dir": "it writes outside the tenant's prefix",
  "--compare-dest": "it reads outside the tenant's prefix",
  "--copy-dest": "it reads outside the tenant's prefix",
  "--cache-dir": "it writes a directory on the host",
  "--temp-dir": "it writes a directory on the host",
  "--ca-cert": "it reads a file on the host",
  "--client-cert": "it reads a file on the host",
  "--client-key": "it reads a file on the host",
  "--copy-links": "it would follow symlinks out of the state directory",
  "--links": "Kiln decides how symlinks in state are handled",
  "--no-check-certificate": "it turns off TLS verification",
  "--s3-endpoint": "use sync.sink.endpoint",
  "--s3-region": "use sync.sink.region",
  "--s3-access-key-id": "use sync.sink.access_key_id (secrets never go on a command line)",
  "--s3-secret-access-key": "use sync.sink.secret_access_key (secrets never go on a command line)",
  "--s3-session-token": "secrets never go on a command line",
  "--s3-sse-customer-key": "secrets never go on a command line",
  "--s3-sse-customer-key-base64": "secrets never go on a command line",
  "--s3-env-auth": "it would use Kiln's own credentials",
  "--s3-shared-credentials-file": "it would use credentials from the host",
  "--s3-profile": "it would use credentials from the host",
};

const DENIED_PREFIXES: [string, string][] = [
  ["--rc", "it opens a remote-control server"],
  ["--dump", "it logs requests, which can include credentials"],
];

const FLAG = /^--[a-z0-9][a-z0-9-]*(=.*)?$/;

/** Why this flag is refused, or null when it is allowed. */
export function rcloneFlagProblem(flag: string): string | null {
  if (!FLAG.test(flag)) {
    return 'must be a long flag like "--s3-force-path-style" or "--transfers=8" (give a value with "=", in the same item)';
  }
  const name = flag.split("=", 1)[0]!;
  const why = DENIED[name] ?? DENIED_PREFIXES.find(([p]) => name.startsWith(p))?.[1];
  return why ? `${name} is not allowed: ${why}` : null;
}
