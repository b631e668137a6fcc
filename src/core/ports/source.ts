/**
 * Source fetchers: put an app's source tree into a fresh directory.
 * Implemented by src/adapters/sources/git.ts and src/adapters/sources/tarball.ts.
 */
import type { Secret } from "../secret.ts";
import type { LogSink } from "../logs.ts";

export type FetchRequest =
  /** `commit`: build exactly this commit (a full sha, e.g. a push's), reached through `ref`'s history if the server refuses a fetch by sha. */
  | { kind: "git"; url: string; ref?: string; token?: Secret; commit?: string }
  | { kind: "tarball"; file: string };

export interface FetchResult {
  /** The commit checked out (git only). */
  commit?: string;
}

export interface SourceFetcher {
  /**
   * Fill `destDir` (which must not exist yet) with the source. On any failure it throws a
   * StepError with a clear message and leaves neither destDir nor anything outside it.
   */
  fetch(req: FetchRequest, destDir: string, opts: { signal?: AbortSignal; log: LogSink }): Promise<FetchResult>;
}
