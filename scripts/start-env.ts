import { defaultCertDir, ensureCertificates, type EmulatorCertificates } from '@email-core/certs';

export interface MicrosoftTrust {
  /** the apps' environment: `env` with MS_CA_FILE added when the emulator runs */
  env: NodeJS.ProcessEnv;
  /** the emulator's certificates, when it runs */
  certs?: EmulatorCertificates;
}

/**
 * How `npm start`'s apps trust the Microsoft side. With a Microsoft app configured (MS_CLIENT_ID set) nothing is
 * added: the apps trust what Node trusts, and the environment's own NODE_EXTRA_CA_CERTS and MS_CA_FILE, if any,
 * pass through unchanged. Without one, the bundled emulator runs with its local CA (made or renewed here), and the
 * apps trust that CA for their Microsoft requests only: `MS_CA_FILE=<certDir>/ca.pem` (libs/graph), never
 * NODE_EXTRA_CA_CERTS, which would make every connection of the process trust it.
 */
export function microsoftTrust(env: NodeJS.ProcessEnv, certDir = defaultCertDir(env)): MicrosoftTrust {
  if (env.MS_CLIENT_ID) return { env: { ...env } };
  const certs = ensureCertificates({
    certDir,
    hostnames: (env.EMULATOR_HOSTNAMES ?? 'localhost,127.0.0.1')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
  });
  return { env: { ...env, MS_CA_FILE: certs.caPath }, certs };
}
