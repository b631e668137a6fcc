const http = require("node:http");

const port = Number(process.env.PORT || 3000);
let requests = 0;

const server = http.createServer((req, res) => {
  requests++;
  console.log(`${req.method} ${req.url}`);
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  res.end(`hello from kiln (request ${requests}, path ${req.url})\n`);
});

server.listen(port, "0.0.0.0", () => {
  console.log(`hello-node listening on port ${port}`);
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
