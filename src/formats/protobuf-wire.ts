/**
 * A minimal protobuf wire-format reader: enough to walk the fields of a message without
 * generated code. `fields(bytes)` yields each field's number and raw value; callers decode
 * nested messages by calling `fields` again on a length-delimited value.
 *
 * @example
 *   for (const f of fields(bytes)) if (f.no === 3 && f.wire === "bytes") name = utf8(f.bytes);
 */

export type WireField =
  | { no: number; wire: "varint"; value: number }
  | { no: number; wire: "bytes"; bytes: Uint8Array }
  | { no: number; wire: "fixed64" | "fixed32" };

const decoder = new TextDecoder();

export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Iterate the fields of one message. Throws on truncated or malformed input. */
export function* fields(buf: Uint8Array): Generator<WireField> {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new Error("protobuf: truncated varint");
      const b = buf[pos++]!;
      result += (b & 0x7f) * scale; // plain arithmetic: values above 2^31 stay exact up to 2^53
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error("protobuf: varint too long");
  };
  const skip = (n: number) => {
    if (pos + n > buf.length) throw new Error("protobuf: truncated field");
    pos += n;
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const type = key % 8;
    switch (type) {
      case 0:
        yield { no, wire: "varint", value: varint() };
        break;
      case 1:
        skip(8);
        yield { no, wire: "fixed64" };
        break;
      case 2: {
        const len = varint();
        const start = pos;
        skip(len);
        yield { no, wire: "bytes", bytes: buf.subarray(start, start + len) };
        break;
      }
      case 5:
        skip(4);
        yield { no, wire: "fixed32" };
        break;
      default:
        throw new Error(`protobuf: unsupported wire type ${type}`);
    }
  }
}
