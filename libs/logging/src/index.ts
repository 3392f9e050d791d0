export {
  acceptCorrelationId,
  currentCorrelationId,
  newCorrelationId,
  runWithCorrelation,
  type CorrelationContext,
} from './correlation';
