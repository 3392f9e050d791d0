// Jest runs global setup outside its module mapper, so the @email-core/* paths of tsconfig.json are
// resolved here by tsconfig-paths (the TypeScript itself is compiled by Jest's own transform).
require('tsconfig-paths/register');
module.exports = require('./global-setup.ts').default;
