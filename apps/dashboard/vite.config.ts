import react from '@vitejs/plugin-react';
import path from 'node:path';
import { defineConfig } from 'vite';

// In development the dashboard runs on :5173 and proxies the API; in production the producer serves dist/.
export default defineConfig({
  root: __dirname,
  plugins: [react()],
  resolve: {
    alias: {
      '@': path.resolve(__dirname, 'src'),
      // realtime names come from the contracts library (type-only imports for payloads: no zod in the bundle)
      '@email-core/contracts': path.resolve(__dirname, '../../libs/contracts/src'),
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api/v1/realtime': { target: 'http://127.0.0.1:3000', ws: true },
      '/api': 'http://127.0.0.1:3000',
      '/health': 'http://127.0.0.1:3000',
    },
  },
});
