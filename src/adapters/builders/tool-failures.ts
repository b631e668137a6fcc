/**
 * A failed zero-config build, explained from what its tools printed: the last lines of the build
 * log → what failed and what to do, when it is a failure Kiln recognises. Pure. Today: pip and
 * Go's module download when the package index or module proxy is out of reach (this machine
 * may reach no registry). Patterns follow the tools' own error text:
 *
 *   pip:  WARNING: Retrying (…) after connection broken by 'NewConnectionError(…: [Errno -2] Name or service not known')': /simple/flask/
 *         ERROR: No matching distribution found for flask
 *   go:   go: github.com/google/uuid@v1.6.0: Get "https://proxy.golang.org/…/@v/v1.6.0.mod": dial tcp: lookup proxy.golang.org on …: no such host
 *
 * A package that really does not exist (the index answered) is not explained: the tool's own
 * error stays the build's error.
 */

export interface ToolFailure {
  message: string;
  hint: string;
}

export function explainToolFailure(lines: readonly string[]): ToolFailure | null {
  return pipIndexUnreachable(lines) ?? goProxyUnreachable(lines);
}

const PYPI_SIMPLE = "https://pypi.org/simple";

function pipIndexUnreachable(lines: readonly string[]): ToolFailure | null {
  const missing = lastMatch(lines, /^ERROR: No matching distribution found for (\S+)/);
  if (!missing) return null;
  const broken = lastMatch(lines, /after connection broken by '(\w+Error\(.*)': \S*$/);
  if (!broken) return null; // the index answered: the package is not there, pip's error says so
  const index = lastMatch(lines, /^Looking in indexes: (\S+?),?(?:\s|$)/)?.[1] ?? PYPI_SIMPLE;
  return {
    message: `pip could not reach the package index (${redactUrl(index)}): ${networkReason(broken[1]!)}; ${missing[1]} was not installed`,
    hint:
      "set PIP_INDEX_URL (a build-time env var) to an index this machine reaches, or vendor wheels: " +
      "`pip download -r requirements.txt -d wheels/` where the index answers, commit wheels/, and start " +
      "requirements.txt with `--no-index --find-links wheels/`",
  };
}

function goProxyUnreachable(lines: readonly string[]): ToolFailure | null {
  const offline = lastMatch(lines, /module lookup disabled by GOPROXY=off/);
  if (offline) {
    return { message: "Go modules need a module proxy; none answered (GOPROXY=off): module downloads are turned off", hint: GO_HINT };
  }
  const failed = lastMatch(lines, /@\S+: .*Get "(https?:\/\/[^/"]+)([^"]*)": ((?:dial tcp|proxyconnect|net\/http:)[^\n]*)$/);
  if (!failed) return null;
  const [, base, path, why] = failed;
  const shown = redactUrl(base!);
  const via = path!.includes("/@v/") || path!.includes("/@latest") ? `GOPROXY=${shown}` : `direct from ${shown}`;
  return { message: `Go modules need a module proxy; none answered (${via}): ${networkReason(why!)}`, hint: GO_HINT };
}

const GO_HINT =
  "set GOPROXY (a build-time env var) to a module proxy this machine reaches, or vendor the modules: " +
  "`go mod vendor` where a proxy answers, and commit vendor/";

/** What a connection error says, in words: DNS, route, refusal, timeout. */
function networkReason(text: string): string {
  if (/Name or service not known|Temporary failure in name resolution|no such host|server misbehaving|getaddrinfo failed|Errno -[23]\b/i.test(text)) {
    return "its name does not resolve here";
  }
  if (/Network is unreachable|No route to host/i.test(text)) return "no network route";
  if (/Connection refused/i.test(text)) return "the connection was refused";
  if (/timed out|timeout/i.test(text)) return "the connection timed out";
  if (/proxy/i.test(text)) return "the HTTP proxy did not answer";
  if (/SSL|certificate/i.test(text)) return "its TLS certificate was not accepted";
  return "no connection";
}

function lastMatch(lines: readonly string[], re: RegExp): RegExpExecArray | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = re.exec(lines[i]!);
    if (m) return m;
  }
  return null;
}

/** An index URL may carry a token (https://user:token@host/simple): never repeat it. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//***@");
}
