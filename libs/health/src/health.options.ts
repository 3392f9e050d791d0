export interface HealthOptions {
  databaseUrl: string;
  kafkaBrokers: string[];
  timeoutMs: number;
}

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');
