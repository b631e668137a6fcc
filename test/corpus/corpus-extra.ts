/** Corpus apps in the shapes beyond Node servers and SPAs (built static sites, Bun, Python, Go). */
import type { CorpusApp } from "./corpus.ts";

export const EXTRA_CORPUS: CorpusApp[] = [];
