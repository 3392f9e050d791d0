import { createSecretKey } from 'node:crypto';
import type { JwtModuleOptions } from '@nestjs/jwt';
import type { ProducerConfig } from '@email-core/config';
import { AuthPolicy } from '../auth.policy';

/**
 * The access tokens' HS256 key and claims, for JwtModule (signing in AccessTokenIssuer, verifying in JwtAuthGuard
 * and the real-time socket's handshake).
 *
 * The key is handed over as a secret `KeyObject`, never as the string: jsonwebtoken turns a string or Buffer key
 * into a KeyObject on every call by first trying to parse it as a PEM public (or private) key, which throws, and
 * only then making a secret key of it. Under the fuzz suite that failed parse was 19% of the producer's CPU (a
 * `--cpu-prof` of the fuzz run: 3,335 of 17,404 busy samples in `createPublicKey`); see docs/performance.md.
 */
export function jwtModuleOptions(config: Pick<ProducerConfig, 'jwtSecret'>): JwtModuleOptions {
  return {
    secret: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')),
    signOptions: {
      algorithm: 'HS256',
      expiresIn: AuthPolicy.accessTokenTtlSeconds,
      issuer: 'email-core',
    },
    verifyOptions: { algorithms: ['HS256'], issuer: 'email-core' },
  };
}
