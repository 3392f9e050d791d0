require('tsconfig-paths/register');
module.exports = require('./global-teardown.ts').default;
