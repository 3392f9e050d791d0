export {
  emulatorTruth,
  expectConverged,
  imapTruth,
  kafkaBacklog,
  type Convergence,
  type KafkaBacklog,
  type TruthSource,
} from './converge';
export {
  FAULTS_REPORT_DIR,
  FAULTS_SCENARIOS_FILE,
  readScenarios,
  recordScenario,
  type ScenarioRecord,
} from './report';
