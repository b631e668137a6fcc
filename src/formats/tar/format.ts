/**
 * The tar header layout shared by the reader and the writer (POSIX ustar, with the pax and
 * GNU extensions the reader understands). One 512-byte block per header; data padded to 512.
 */
export const BLOCK = 512;

/** [offset, length] of each ustar header field. */
export const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

export type TarEntryType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "character-device"
  | "block-device"
  | "fifo"
  | "unsupported";

/** One entry of an archive, after pax / GNU long-name headers have been applied. */
export interface TarEntry {
  /** The path as stored (may be unsafe: "../x", "/etc/x"); callers must validate. */
  path: string;
  type: TarEntryType;
  /** The raw typeflag character ("0", "5", "S", ...). */
  typeflag: string;
  /** Permission bits (the low 12 bits of the mode field). */
  mode: number;
  /** Bytes of data following the header. */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Symlink target or hardlink source ("" for other types). */
  linkname: string;
}

export const TYPEFLAG: Record<Exclude<TarEntryType, "unsupported">, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  "character-device": "3",
  "block-device": "4",
  directory: "5",
  fifo: "6",
};

export function typeFromFlag(flag: string): TarEntryType {
  switch (flag) {
    case "0":
    case "\0":
    case "7": // contiguous file: a regular file everywhere that matters
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "3":
      return "character-device";
    case "4":
      return "block-device";
    case "5":
      return "directory";
    case "6":
      return "fifo";
    default:
      return "unsupported";
  }
}

/** Sum of the header bytes with the checksum field counted as eight spaces. */
export function headerChecksum(block: Uint8Array, signed = false): number {
  const [off, len] = FIELD.checksum;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= off && i < off + len) sum += 0x20;
    else sum += signed ? ((block[i]! << 24) >> 24) : block[i]!;
  }
  return sum;
}

export function paddingFor(size: number): number {
  const rem = size % BLOCK;
  return rem === 0 ? 0 : BLOCK - rem;
}
