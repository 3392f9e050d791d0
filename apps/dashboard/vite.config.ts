import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development the dashboard runs on :5173 and proxies the API; in production the producer serves dist/.
export default defineConfig({
  root: __dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': 'http://127.0.0.1:3000', '/health': 'http://127.0.0.1:3000' },
  },
});
