import { expect, test } from "bun:test";
import { nextPage } from "./registry-prune.ts";

test("nextPage: the catalog's Link header, or null on the last page", () => {
  expect(nextPage('</v2/_catalog?last=kiln%2Fapp-b&n=1000>; rel="next"')).toBe("/v2/_catalog?last=kiln%2Fapp-b&n=1000");
  expect(nextPage("</v2/_catalog?last=x&n=2>; rel=next")).toBe("/v2/_catalog?last=x&n=2");
  expect(nextPage(null)).toBeNull();
  expect(nextPage('</v2/_catalog?n=2>; rel="prev"')).toBeNull();
});
