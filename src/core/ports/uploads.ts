/**
 * Uploads every Kiln of a cluster can read. An upload (a tarball deploy) is received by one Kiln and
 * kept on its disk; with several Kilns it is also kept here, so another Kiln can build it — a
 * redeploy asked of it, or a build it takes over from a Kiln that died. One Kiln alone has none.
 */
export interface SharedUploads {
  /** Keeps a copy of `file` under `uploadId`. */
  put(uploadId: string, file: string): Promise<void>;
  /** Writes the upload to `dest` (whole, or not at all) when it is kept; false when it is not. */
  fetchTo(uploadId: string, dest: string): Promise<boolean>;
  delete(uploadId: string): Promise<void>;
  /** Every upload kept, with when (epoch ms): garbage collection removes those no deployment names. */
  list(): Promise<{ uploadId: string; createdAt: number }[]>;
}
