/** The app the Swarm tests deploy: its VERSION and the task's host name at /, /healthz failing while HEALTH=fail. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tarOf } from "../helpers/kiln.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

function appDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-swarm-app-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "swarmy", version: "1.0.0", scripts: { start: "node server.js" } }));
  writeFileSync(
    join(dir, "server.js"),
    `const http = require("node:http");
const os = require("node:os");
const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    const bad = process.env.HEALTH === "fail";
    res.writeHead(bad ? 500 : 200);
    return res.end(bad ? "unhealthy\\n" : "ok\\n");
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ version: process.env.VERSION || null, host: os.hostname() }));
});
server.listen(Number(process.env.PORT || 3000), "0.0.0.0");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`,
  );
  return dir;
}


/** The app as an upload (its folder removed once packed). */
export async function appTar(): Promise<Uint8Array> {
  const dir = appDir();
  try {
    return await tarOf(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
