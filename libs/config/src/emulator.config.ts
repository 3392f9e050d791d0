import { z } from 'zod';
import {
  booleanFlag,
  logFormat,
  logLevel,
  nodeEnv,
  port,
  positiveInt,
  resolveLogFormat,
  secret,
} from './fields';
import { loadConfig } from './load-config';

const emulatorEnv = z.object({
  NODE_ENV: nodeEnv,
  LOG_LEVEL: logLevel,
  LOG_FORMAT: logFormat,
  EMULATOR_HOST: z.string().default('127.0.0.1'),
  EMULATOR_PORT: port(8443),
  EMULATOR_HOSTNAMES: z.string().default('localhost,127.0.0.1'),
  EMULATOR_CERT_DIR: z.string().default('.stack/certs'),
  EMULATOR_DEMO_CLIENT_ID: z.string().min(1).default('email-core-dev'),
  EMULATOR_DEMO_CLIENT_SECRET: secret(8, "the demo app registration's client secret"),
  EMULATOR_DEMO_REDIRECT_URIS: z.string().default('http://127.0.0.1:3000/api/v1/accounts/outlook/callback'),
  EMULATOR_SUBSCRIPTION_MAX_MINUTES: positiveInt(4230),
  EMULATOR_THROTTLING: booleanFlag(true),
});

export interface EmulatorConfig {
  app: 'outlook-emulator';
  nodeEnv: z.output<typeof emulatorEnv>['NODE_ENV'];
  logLevel: z.output<typeof emulatorEnv>['LOG_LEVEL'];
  /** `LOG_FORMAT`, resolved: json (production's default) or pretty (development's) */
  logFormat: 'json' | 'pretty';
  host: string;
  port: number;
  hostnames: string[];
  certDir: string;
  demoApp: { clientId: string; clientSecret: string; redirectUris: string[] };
  subscriptionMaxMinutes: number;
  throttling: boolean;
}

export function loadEmulatorConfig(env: NodeJS.ProcessEnv = process.env): EmulatorConfig {
  const e = loadConfig('outlook-emulator', emulatorEnv, env);
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return {
    app: 'outlook-emulator',
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    logFormat: resolveLogFormat(e.NODE_ENV, e.LOG_FORMAT),
    host: e.EMULATOR_HOST,
    port: e.EMULATOR_PORT,
    hostnames: list(e.EMULATOR_HOSTNAMES),
    certDir: e.EMULATOR_CERT_DIR,
    demoApp: {
      clientId: e.EMULATOR_DEMO_CLIENT_ID,
      clientSecret: e.EMULATOR_DEMO_CLIENT_SECRET,
      redirectUris: list(e.EMULATOR_DEMO_REDIRECT_URIS),
    },
    subscriptionMaxMinutes: e.EMULATOR_SUBSCRIPTION_MAX_MINUTES,
    throttling: e.EMULATOR_THROTTLING,
  };
}
