import { randomBytes, randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Grant } from './grant';
import { IdentityError } from './identity-errors';
import { IdentitySettings } from './identity-settings';
import type { ScopeSet } from './scopes';

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  tenant: string;
  scopes: ScopeSet;
  expiresAt: number;
  state: 'pending' | 'approved' | 'declined';
  grant?: Grant;
}

/** letters and digits that can't be misread for each other (no 0/O, 1/I/L) */
const USER_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/**
 * The device authorization grant (RFC 8628, v2-oauth2-device-code.md): `/devicecode` starts one, the user
 * approves or declines it on `/devicelogin` with the user code, and the device polls `/token` with the
 * device code until it is approved, declined or expired.
 */
@Injectable()
export class DeviceCodeService {
  private readonly byDeviceCode = new Map<string, DeviceAuthorization>();
  private readonly byUserCode = new Map<string, DeviceAuthorization>();

  constructor(private readonly settings: IdentitySettings) {}

  get pollIntervalSeconds(): number {
    return this.settings.deviceCodePollIntervalSeconds;
  }

  get ttlSeconds(): number {
    return this.settings.deviceCodeTtlSeconds;
  }

  start(clientId: string, tenant: string, scopes: ScopeSet, now = Date.now()): DeviceAuthorization {
    this.prune(now);
    let userCode: string;
    do {
      userCode = Array.from(
        { length: 9 },
        () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)],
      ).join('');
    } while (this.byUserCode.has(userCode));
    const auth: DeviceAuthorization = {
      deviceCode: `DAQABAAEAAAD${randomBytes(96).toString('base64url')}`,
      userCode,
      clientId,
      tenant,
      scopes,
      expiresAt: now + this.settings.deviceCodeTtlSeconds * 1000,
      state: 'pending',
    };
    this.byDeviceCode.set(auth.deviceCode, auth);
    this.byUserCode.set(userCode, auth);
    return auth;
  }

  /** a pending, unexpired authorization for a user code as typed (any case, spaces and dashes ignored) */
  findPending(userCode: string, now = Date.now()): DeviceAuthorization | undefined {
    const auth = this.byUserCode.get(userCode.replace(/[\s-]/g, '').toUpperCase());
    return auth && auth.state === 'pending' && now < auth.expiresAt ? auth : undefined;
  }

  approve(auth: DeviceAuthorization, grant: Grant): void {
    auth.state = 'approved';
    auth.grant = grant;
  }

  decline(auth: DeviceAuthorization): void {
    auth.state = 'declined';
  }

  /** the device's poll at /token: the grant once approved (the device code is then spent), else the AAD error */
  poll(deviceCode: string, clientId: string, now = Date.now()): Grant {
    const auth = this.byDeviceCode.get(deviceCode);
    if (!auth || auth.clientId !== clientId) throw new IdentityError('badVerificationCode');
    if (auth.state === 'declined') {
      this.forget(auth);
      throw new IdentityError('authorizationDeclined');
    }
    if (auth.state === 'approved' && auth.grant) {
      this.forget(auth);
      return auth.grant;
    }
    if (now >= auth.expiresAt) throw new IdentityError('deviceCodeExpired');
    throw new IdentityError('authorizationPending');
  }

  reset(): void {
    this.byDeviceCode.clear();
    this.byUserCode.clear();
  }

  private forget(auth: DeviceAuthorization): void {
    this.byDeviceCode.delete(auth.deviceCode);
    this.byUserCode.delete(auth.userCode);
  }

  private prune(now: number): void {
    // expired ones are kept an hour so that polls answer expired_token rather than bad_verification_code
    for (const auth of this.byDeviceCode.values()) {
      if (now > auth.expiresAt + 3600_000) this.forget(auth);
    }
  }
}
