import { describe, expect, test } from "bun:test";
import { Secret } from "../../core/secret.ts";
import type { SyncSink } from "../../core/workload.ts";
import { probeable, signV4 } from "./s3-probe.ts";

describe("signV4", () => {
  // AWS's own example: "Signature Calculations for the Authorization Header", GET Bucket (List Objects).
  test("matches AWS's documented List Objects example", () => {
    const req = signV4({
      method: "GET",
      origin: "https://examplebucket.s3.amazonaws.com",
      path: "/",
      query: { "max-keys": "2", prefix: "J" },
      region: "us-east-1",
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      amzDate: "20130524T000000Z",
    });
    expect(req).toEqual({
      url: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
      headers: {
        "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "x-amz-date": "20130524T000000Z",
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
      },
    });
  });

  test("query values are RFC 3986 encoded, keys sorted", () => {
    const req = signV4({ method: "GET", origin: "http://127.0.0.1:9000", path: "/b", query: { prefix: "t/a b*/", "list-type": "2" }, region: "r", accessKeyId: "k", secretAccessKey: "s", amzDate: "20260101T000000Z" });
    expect(req.url).toBe("http://127.0.0.1:9000/b?list-type=2&prefix=t%2Fa%20b%2A%2F");
  });
});

describe("probeable", () => {
  const sink = (over: Partial<SyncSink> = {}): SyncSink => ({ type: "s3", bucket: "b-1", prefix: "t/${tenantId}/", rcloneFlags: [], accessKeyId: new Secret("k"), secretAccessKey: new Secret("s"), ...over });
  test("only with explicit keys and no rclone_flags", () => {
    expect(probeable(sink())).toBe(true);
    expect(probeable(sink({ accessKeyId: undefined, secretAccessKey: undefined }))).toBe(false);
    expect(probeable(sink({ rcloneFlags: ["--s3-v2-auth"] }))).toBe(false);
  });
});
