/// <reference types="node" />
import { cpSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

/** pdf.js's own files, copied as they are to `dist/pdfjs/` so the letter preview loads them
 * from the app itself (no network, CSP `'self'`): the WebAssembly image decoders (JPEG 2000
 * scans, JBIG2, colour profiles), the fourteen standard fonts, and the CMaps of CID fonts.
 * A few lines rather than vite-plugin-static-copy, whose Vite 8 release needs Node 22. */
const PDFJS_ASSETS = ["cmaps", "standard_fonts", "wasm", "iccs"];

function pdfjsAssets(): Plugin {
  return {
    name: "pdfjs-assets",
    apply: "build",
    writeBundle(options) {
      const from = fileURLToPath(new URL("./node_modules/pdfjs-dist/", import.meta.url));
      for (const dir of PDFJS_ASSETS) cpSync(from + dir, `${options.dir}/pdfjs/${dir}`, { recursive: true });
    },
  };
}

// The app loads the built files from the Tauri asset protocol: no dev server URL is
// configured in tauri.conf.json, so `npm run build` is what the window shows.
export default defineConfig({
  plugins: [svelte(), pdfjsAssets()],
  clearScreen: false,
  build: {
    target: ["es2021", "safari15"],
    outDir: "dist",
    emptyOutDir: true,
    // Everything is a file under 'self': the CSP allows no inline script or style.
    assetsInlineLimit: 0,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
