export { expectConverged, kafkaBacklog, type Convergence, type KafkaBacklog } from './converge';
export {
  FAULTS_REPORT_DIR,
  FAULTS_SCENARIOS_FILE,
  readScenarios,
  recordScenario,
  type ScenarioRecord,
} from './report';
