export interface HealthOptions {
  kafkaBrokers: string[];
  timeoutMs: number;
}

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');
