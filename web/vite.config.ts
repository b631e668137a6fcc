/** The dashboard's build: `bun run build:web` → web/dist, served by `kiln serve` at `/`. */
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  // Vite 8 transforms TSX with Oxc: React's automatic runtime, no plugin needed.
  oxc: { jsx: { runtime: "automatic" } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { "/api": { target: "http://127.0.0.1:4000", ws: true } } },
});
