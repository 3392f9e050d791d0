import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import forge from 'node-forge';
import { signJwt, type JwtClaims } from './jwt';

export interface Jwk {
  kty: 'RSA';
  use: 'sig';
  kid: string;
  x5t: string;
  n: string;
  e: string;
  x5c: string[];
  issuer?: string;
}

/**
 * The emulator's token signing key: RSA 2048, made once per process and kept in memory (tokens from an earlier
 * run fail signature checks, as tokens signed with a rolled-over key do). Like AAD's keys it comes with a
 * self-signed certificate (`x5c`), and its `kid` is the certificate's SHA-1 thumbprint (`x5t`).
 */
@Injectable()
export class SigningKeyService {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  private readonly certificateDer: Buffer;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.certificateDer = selfSignedCertificate(privateKey, publicKey);
    this.kid = createHash('sha1').update(this.certificateDer).digest('base64url');
  }

  sign(claims: JwtClaims): string {
    return signJwt({ kid: this.kid, x5t: this.kid }, claims, this.privateKey);
  }

  /** the public key for a `kid`, undefined for any other */
  publicKeyFor(kid: unknown): KeyObject | undefined {
    return kid === this.kid ? this.publicKey : undefined;
  }

  jwk(issuer?: string): Jwk {
    const { n, e } = this.publicKey.export({ format: 'jwk' });
    return {
      kty: 'RSA',
      use: 'sig',
      kid: this.kid,
      x5t: this.kid,
      n: n as string,
      e: e as string,
      x5c: [this.certificateDer.toString('base64')],
      ...(issuer ? { issuer } : {}),
    };
  }
}

function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 30)}`;
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + 5 * 365 * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: 'accounts.accesscontrol.windows.net (Outlook emulator)' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const forgeKey = forge.pki.privateKeyFromPem(
    privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  );
  cert.sign(forgeKey, forge.md.sha256.create());
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}
