import { describe, expect, test } from "bun:test";
import { queryString } from "./http.ts";
import { buildQuery, importQuery, pullQuery, splitRef } from "./image-queries.ts";

describe("splitRef", () => {
  test("repo and tag", () => {
    expect(splitRef("kiln/node-runtime:20-host")).toEqual({ repo: "kiln/node-runtime", tag: "20-host" });
    expect(splitRef("node")).toEqual({ repo: "node", tag: "latest" });
    expect(splitRef("registry:5000/app")).toEqual({ repo: "registry:5000/app", tag: "latest" });
    expect(splitRef("registry:5000/app:v1")).toEqual({ repo: "registry:5000/app", tag: "v1" });
  });
});

describe("image queries", () => {
  test("build: BuildKit, tag, dockerfile, labels and build args as JSON, cleanup of intermediates", () => {
    const q = buildQuery({ tag: "kiln/app-web:b1", dockerfile: "Dockerfile", labels: { "kiln.managed": "true" }, buildArgs: { A: "1" } });
    expect(q).toEqual({
      version: "2",
      t: "kiln/app-web:b1",
      dockerfile: "Dockerfile",
      labels: '{"kiln.managed":"true"}',
      buildargs: '{"A":"1"}',
      rm: true,
      forcerm: true,
    });
    expect(queryString(q)).toBe(
      "?version=2&t=kiln%2Fapp-web%3Ab1&dockerfile=Dockerfile&labels=%7B%22kiln.managed%22%3A%22true%22%7D&buildargs=%7B%22A%22%3A%221%22%7D&rm=1&forcerm=1",
    );
  });

  test("import from stdin with repeated changes", () => {
    const q = importQuery("kiln/node-runtime:20-host", ["ENV A=1", "WORKDIR /app"]);
    expect(queryString(q)).toBe("?fromSrc=-&repo=kiln%2Fnode-runtime&tag=20-host&changes=ENV+A%3D1&changes=WORKDIR+%2Fapp");
  });

  test("pull", () => {
    expect(pullQuery("node:20-bookworm-slim")).toEqual({ fromImage: "node", tag: "20-bookworm-slim" });
  });
});
