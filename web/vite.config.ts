import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// Built into dist/web; the server serves it at /console (src/console/plugin.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [react()],
  logLevel: 'warn',
  // `npx vite --config web/vite.config.ts`: the console with hot reload, the API proxied to a local server.
  server: {
    proxy: {
      '/admin': process.env.IDPBRIDGE_URL ?? 'http://127.0.0.1:8080',
      '/console/api': process.env.IDPBRIDGE_URL ?? 'http://127.0.0.1:8080',
    },
  },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1000,
  },
});
