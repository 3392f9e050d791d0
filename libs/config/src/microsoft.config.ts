import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { httpsUrl, secret } from './fields';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * `MS_CA_FILE`: a PEM file of extra CA certificates trusted for the Microsoft requests only (the identity platform
 * and Graph, through libs/graph), on top of the usual ones. `npm start` points it at the bundled emulator's local
 * CA; nothing else in the process trusts that CA. Read and checked at boot: a missing file or one without a
 * certificate stops the app with the path named.
 */
export const caFile = z
  .string()
  .optional()
  .transform((file, ctx) => {
    if (!file) return undefined;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      });
      return z.NEVER;
    }
    const certs = text.match(PEM_CERTIFICATE) ?? [];
    try {
      for (const pem of certs) new X509Certificate(pem);
    } catch {
      certs.length = 0;
    }
    if (certs.length === 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${file} holds no readable PEM certificate (-----BEGIN CERTIFICATE-----)`,
      });
      return z.NEVER;
    }
    return { file, pem: `${certs.join('\n')}\n` };
  });

/** The Microsoft identity platform and Graph (or the bundled emulator, which speaks the same contract). */
export const microsoftEnvShape = {
  MS_CLIENT_ID: z
    .string({ required_error: "required (the app registration's Application (client) ID)" })
    .min(1),
  MS_CLIENT_SECRET: secret(8, "the app registration's client secret"),
  MS_AUTHORITY: httpsUrl.default('https://login.microsoftonline.com/common'),
  MS_GRAPH_BASE_URL: httpsUrl.default('https://graph.microsoft.com'),
  MS_SCOPES: z.string().default('offline_access User.Read Mail.ReadWrite Mail.Send'),
  MS_CA_FILE: caFile,
} as const;

export interface MicrosoftConfig {
  clientId: string;
  clientSecret: string;
  authority: string;
  graphBaseUrl: string;
  scopes: string[];
  /**
   * `MS_CA_FILE`: extra CA certificates (PEM) trusted for requests to the authority and Graph only, e.g. the
   * emulator's local CA; unset, those requests trust what every other request does.
   */
  extraCa?: { file: string; pem: string };
}

export function toMicrosoftConfig(env: {
  MS_CLIENT_ID: string;
  MS_CLIENT_SECRET: string;
  MS_AUTHORITY: string;
  MS_GRAPH_BASE_URL: string;
  MS_SCOPES: string;
  MS_CA_FILE?: { file: string; pem: string };
}): MicrosoftConfig {
  return {
    clientId: env.MS_CLIENT_ID,
    clientSecret: env.MS_CLIENT_SECRET,
    authority: env.MS_AUTHORITY.replace(/\/+$/, ''),
    graphBaseUrl: env.MS_GRAPH_BASE_URL.replace(/\/+$/, ''),
    scopes: env.MS_SCOPES.split(/\s+/).filter(Boolean),
    ...(env.MS_CA_FILE ? { extraCa: env.MS_CA_FILE } : {}),
  };
}
