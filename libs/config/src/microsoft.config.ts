import { z } from 'zod';
import { httpsUrl, secret } from './fields';

/** The Microsoft identity platform and Graph (or the bundled emulator, which speaks the same contract). */
export const microsoftEnvShape = {
  MS_CLIENT_ID: z
    .string({ required_error: "required (the app registration's Application (client) ID)" })
    .min(1),
  MS_CLIENT_SECRET: secret(8, "the app registration's client secret"),
  MS_AUTHORITY: httpsUrl.default('https://login.microsoftonline.com/common'),
  MS_GRAPH_BASE_URL: httpsUrl.default('https://graph.microsoft.com'),
  MS_SCOPES: z.string().default('offline_access User.Read Mail.ReadWrite Mail.Send'),
} as const;

export interface MicrosoftConfig {
  clientId: string;
  clientSecret: string;
  authority: string;
  graphBaseUrl: string;
  scopes: string[];
}

export function toMicrosoftConfig(env: {
  MS_CLIENT_ID: string;
  MS_CLIENT_SECRET: string;
  MS_AUTHORITY: string;
  MS_GRAPH_BASE_URL: string;
  MS_SCOPES: string;
}): MicrosoftConfig {
  return {
    clientId: env.MS_CLIENT_ID,
    clientSecret: env.MS_CLIENT_SECRET,
    authority: env.MS_AUTHORITY.replace(/\/+$/, ''),
    graphBaseUrl: env.MS_GRAPH_BASE_URL.replace(/\/+$/, ''),
    scopes: env.MS_SCOPES.split(/\s+/).filter(Boolean),
  };
}
