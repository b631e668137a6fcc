/**
 * Stream a request body to a file under `dir`, refusing it past `maxBytes` (nothing is left behind):
 * a declared Content-Length over the cap before a byte is read, a chunked body at the first chunk past it.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { badRequest, tooLarge } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { formatCap } from "./body-limit.ts";

const HINT = "raise KILN_MAX_UPLOAD_MB or leave build outputs out of the tarball";
const overCap = (maxBytes: number) => `over the limit: the upload cap is ${formatCap(maxBytes)} (${maxBytes} bytes)`;

export async function receiveUpload(body: ReadableStream<Uint8Array> | null, dir: string, maxBytes: number, declaredLength?: number): Promise<string> {
  if (!body) throw badRequest("the request has no body", "send the tar or tar.gz bytes as the body (curl --data-binary @app.tar)");
  if (declaredLength !== undefined && declaredLength > maxBytes) {
    throw tooLarge(`the upload is ${declaredLength} bytes, ${overCap(maxBytes)}`, HINT);
  }
  await mkdir(dir, { recursive: true });
  const path = join(dir, `incoming-${newId()}.tar`);
  const file = Bun.file(path).writer();
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge(`the upload is ${overCap(maxBytes)}`, HINT);
      file.write(chunk);
    }
    await file.end();
    if (size === 0) throw badRequest("the upload is empty", "send the tar or tar.gz bytes as the body (curl --data-binary @app.tar)");
    return path;
  } catch (err) {
    await Promise.resolve(file.end()).catch(() => {});
    await rm(path, { force: true });
    throw err;
  }
}
