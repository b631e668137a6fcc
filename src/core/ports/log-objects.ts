/**
 * Where offloaded log segments live: objects in an S3-compatible bucket under one prefix
 * (rclone: src/adapters/rclone/log-objects.ts). Keys are relative to that prefix.
 */
export interface LogObjects {
  /** The prefix's address, for messages: "s3://bucket/prefix". Holds no secret. */
  readonly url: string;
  /** Stores the object; resolves only once the store confirmed it. */
  put(key: string, body: Uint8Array, signal?: AbortSignal): Promise<void>;
  get(key: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** Deletes the object; an object already gone is no error. */
  remove(key: string): Promise<void>;
  /** Deletes every object under `dir` (a key prefix without trailing slash); none there is no error. */
  removeAll(dir: string): Promise<void>;
}
