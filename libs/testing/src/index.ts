export { resolveStackEndpoints, type EndpointSource, type ResolvedEndpoints } from './stack-endpoints';
export { createTestRun, currentTestRun, disposeTestRun, testRunEnv, type TestRunInfo } from './test-run';
export { spawnApp, waitForHealthy, type SpawnedApp } from './spawn-app';
export { startLatencyProber, type LatencyProber, type Probes } from './latency-prober';
export { waitFor } from './wait-for';
export { seededRandom } from './seeded-random';
export { freePort, startEmulator, type RunningEmulator } from './emulator';
export {
  apiCall,
  linkOutlook,
  signUp,
  startProduct,
  waitForAccountStatus,
  type LinkedAccount,
  type RunningProduct,
} from './product';
export { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy';
export { grantOperator, runOpsGrant, type OpsGrantRun } from './ops-grant';
export {
  exportedState,
  mirroredState,
  settleMirror,
  type EmulatorAdmin,
  type MailboxState,
  type Queryable,
} from './mailbox-state';
export { ensureAppBuild, ensureDashboardBuild } from './builds';
export {
  CHROMIUM_PATH,
  openBrowser,
  SCREENSHOT_ROOT,
  signInThroughUi,
  signUpThroughUi,
  type BrowserSession,
} from './browser';
export * from './faults';
export { StubbedMemoryProvider } from './memory-providers';
export { RecordingKafkaPublisher, testProducerConfig, type PublishedMessage } from './test-doubles';
export {
  codeInMail,
  devMailServer,
  readMailbox,
  systemMailEnv,
  imapAdapterTestEnv,
  waitForMail,
  type DevMailServer,
  type ReceivedMail,
} from './dev-mail';
export {
  devImapSession,
  withDevImapSession,
  devMailTarget,
  devImapLinkBody,
  linkDevImap,
  mirroredImapState,
  serverImapState,
  type ImapMailboxState,
  type ImapMessageState,
} from './imap-mailbox-state';
export {
  requestCodesThroughOutage,
  watchSystemMailFailures,
  type OutageOutcome,
  type SystemMailFailures,
} from './system-mail-failures';
export { parseAppLogs, type AppLogLine } from './app-logs';
export { catchUpRoundLine, waitForActiveSubscription, waitForCatchUpRound } from './emulator-subscriptions';
export { promtoolCheckMetrics } from './promtool';
