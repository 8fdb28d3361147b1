import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The app loads the built files from the Tauri asset protocol: no dev server URL is
// configured in tauri.conf.json, so `npm run build` is what the window shows.
export default defineConfig({
  plugins: [svelte()],
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
