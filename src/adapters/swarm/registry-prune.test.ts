import { expect, test } from "bun:test";
import { nextPage, pruneRegistry } from "./registry-prune.ts";

test("nextPage: the catalog's Link header, or null on the last page", () => {
  expect(nextPage('</v2/_catalog?last=kiln%2Fapp-b&n=1000>; rel="next"')).toBe("/v2/_catalog?last=kiln%2Fapp-b&n=1000");
  expect(nextPage("</v2/_catalog?last=x&n=2>; rel=next")).toBe("/v2/_catalog?last=x&n=2");
  expect(nextPage(null)).toBeNull();
  expect(nextPage('</v2/_catalog?n=2>; rel="prev"')).toBeNull();
});

test("pruneRegistry touches only Kiln's app repositories, tags and digests as Kiln writes them (they go into request paths)", async () => {
  const asked: string[] = [];
  const good = `sha256:${"a".repeat(64)}`;
  const deleted = await pruneRegistry(
    {
      catalog: async () => ["kiln/app-web", "kiln/app-x/../../v2/_catalog", "someone/else", "kiln/app-"],
      tags: async (repo) => (asked.push(`tags ${repo}`), ["b1", "../b2", "b3"]),
      digest: async (repo, tag) => (asked.push(`digest ${repo}:${tag}`), tag === "b3" ? "sha256:../x" : good),
      deleteManifest: async (repo, digest) => void asked.push(`delete ${repo}@${digest}`),
    },
    async () => false,
  );
  expect(deleted).toEqual(["kiln/app-web:b1"]);
  expect(asked).toEqual(["tags kiln/app-web", "digest kiln/app-web:b1", "digest kiln/app-web:b3", `delete kiln/app-web@${good}`]);
});
