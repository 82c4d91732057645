/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Relative asset URLs: the hub injects <base href="{mount}/"> so one build works under any mount path.
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    // `npm run dev` talks to a hub on :8090 (set AIGNE_HUB_URL to point elsewhere).
    proxy: Object.fromEntries(
      ["/api", "/v1", "/-"].map((p) => [p, process.env.AIGNE_HUB_URL ?? "http://127.0.0.1:8090"]),
    ),
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
  },
});
