// @ts-check
// Layer rules, checked by `npm run lint` (`npm run lint:layers` on its own). Every path below is a regular
// expression on a path relative to the repository root; `@email-core/*` imports are resolved through
// tsconfig.json's paths first, so a rule on `^libs/graph/` catches `import ... from '@email-core/graph'`.
// Type-only imports count (tsPreCompilationDeps), and so do `require()` and dynamic `import()`.

/** Consumer folders that are shared layers, not features: any feature may import them. */
const CONSUMER_SHARED = ['mirror', 'messaging'];

/**
 * Who may import @email-core/graph (libs/graph): the Outlook/Graph adapter, the Graph webhook, the Outlook
 * linking slice, the apps' composition roots, libs/graph itself, the emulator, and the tests and benchmarks
 * outside the apps (test/, bench/). Unit and integration specs inside apps/ follow the rule of their folder.
 */
const GRAPH_IMPORTERS = [
  '^libs/graph/',
  '^libs/providers/src/outlook/',
  '^apps/producer/src/graph-webhook/',
  '^apps/producer/src/accounts/commands/(start|complete)-outlook-link/',
  '^apps/[^/]+/src/app\\.module\\.ts$',
  '^apps/outlook-emulator/',
  '^test/',
  '^bench/',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'libs-not-to-apps-or-scripts',
      severity: 'error',
      comment:
        'A library never imports an app, a script, a test or a benchmark: move the code it needs into a lib ' +
        '(as the stack code went to libs/stack and the certificate code to libs/certs).',
      from: { path: '^libs/' },
      to: { path: '^(apps|scripts|test|bench)/' },
    },
    {
      name: 'graph-only-in-outlook-code',
      severity: 'error',
      comment:
        'Only the Outlook/Graph adapter (libs/providers/src/outlook), the Graph webhook, the Outlook linking ' +
        "slice and the apps' app.module.ts import @email-core/graph; everything else talks to a mailbox " +
        'through the provider port (@email-core/providers).',
      from: { pathNot: GRAPH_IMPORTERS },
      to: { path: '^libs/graph/' },
    },
    {
      name: 'consumer-features-apart',
      severity: 'error',
      comment:
        `A consumer feature (a folder of apps/consumer/src other than ${CONSUMER_SHARED.join('/ and ')}/) ` +
        "never imports another feature's folder: shared code belongs in the mirror core (mirror/) or " +
        'messaging/, and features meet only there.',
      from: {
        path: '^apps/consumer/src/([^/]+)/',
        pathNot: `^apps/consumer/src/(${CONSUMER_SHARED.join('|')})/`,
      },
      to: {
        path: '^apps/consumer/src/[^/]+/',
        pathNot: '^apps/consumer/src/($1|' + CONSUMER_SHARED.join('|') + ')/',
      },
    },
    {
      name: 'apps-apart',
      severity: 'error',
      comment:
        'An app never imports another app (producer, consumer, emulator, dashboard): what two apps share ' +
        'is a lib (topics and messages in libs/contracts).',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'apps-not-to-scripts-or-tests',
      severity: 'error',
      comment:
        'An app never imports scripts/ (development tooling), test/ or bench/: move shared code into a lib.',
      from: { path: '^apps/' },
      to: { path: '^(scripts|test|bench)/' },
    },
    {
      name: 'dashboard-only-contracts',
      severity: 'error',
      comment:
        'The dashboard is a browser bundle: of the libs it imports libs/contracts only (type-only where the ' +
        'value would pull zod in), never server code.',
      from: { path: '^apps/dashboard/' },
      to: { path: '^libs/', pathNot: '^libs/contracts/' },
    },
    {
      name: 'not-unresolvable',
      severity: 'error',
      comment:
        'An import that cannot be resolved cannot be checked against the rules above: fix the path, or the ' +
        'alias in tsconfig.json / .dependency-cruiser.webpack.cjs.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|coverage|\\.stack)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // the dashboard's own aliases (apps/dashboard/tsconfig.json, vite.config.ts), which tsconfig.json lacks
    webpackConfig: { fileName: '.dependency-cruiser.webpack.cjs' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.cjs', '.mjs', '.json'],
    },
  },
};
