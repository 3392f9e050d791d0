// Not a build: only the resolve aliases that .dependency-cruiser.cjs needs for the dashboard, whose imports use
// apps/dashboard/tsconfig.json's paths (the same as apps/dashboard/vite.config.ts's aliases), not tsconfig.json's.
const path = require('node:path');

module.exports = {
  resolve: {
    alias: {
      '@': path.resolve(__dirname, 'apps/dashboard/src'),
      '@email-core/contracts': path.resolve(__dirname, 'libs/contracts/src'),
    },
  },
};
