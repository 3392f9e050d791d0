// The Nest CLI's webpack build (nest-cli.json `webpackConfigPath`), as its defaults make it, minus the type check it
// runs beside every bundle (fork-ts-checker: a whole-program check per app, three per `npm run build` and three more
// in `docker:check`). Types are checked once, by `npm run typecheck` (tsc over every app, lib, script and test), which
// CI runs before the build; the bundles are the same either way (ts-loader transpiles only).
module.exports = (options) => ({
  ...options,
  plugins: (options.plugins ?? []).filter(
    (plugin) => plugin.constructor.name !== 'ForkTsCheckerWebpackPlugin',
  ),
});
