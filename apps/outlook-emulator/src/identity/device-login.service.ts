import { Injectable } from '@nestjs/common';
import { AppRegistry } from './app-registry.service';
import { DeviceCodeService, type DeviceAuthorization } from './device-code.service';
import { field, type FormFields } from './form-params';
import { IdentityError } from './identity-errors';
import { parseScopes } from './scopes';
import { SignInService } from './sign-in.service';

export interface DeviceCodeResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
  message: string;
}

export type DeviceLoginOutcome =
  | { kind: 'form'; error?: string; userCode?: string; login?: string }
  | { kind: 'approved'; clientId: string }
  | { kind: 'declined'; clientId: string };

/** the device authorization grant's two ends a person sees: `/devicecode` for the device, `/devicelogin` for the user */
@Injectable()
export class DeviceLoginService {
  constructor(
    private readonly apps: AppRegistry,
    private readonly deviceCodes: DeviceCodeService,
    private readonly signIn: SignInService,
  ) {}

  /** `POST /{tenant}/oauth2/v2.0/devicecode` */
  start(tenant: string, form: FormFields, origin: string): DeviceCodeResponse {
    const clientId = field(form, 'client_id');
    if (clientId === undefined) throw new IdentityError('missingParameter', { name: 'client_id' });
    if (!this.apps.get(clientId)) throw new IdentityError('unknownClient', { clientId, tenant });
    const scope = field(form, 'scope');
    if (scope === undefined) throw new IdentityError('missingParameter', { name: 'scope' });
    const auth = this.deviceCodes.start(clientId, tenant, parseScopes(scope));
    const verificationUri = `${origin}/devicelogin`;
    return {
      device_code: auth.deviceCode,
      user_code: auth.userCode,
      verification_uri: verificationUri,
      expires_in: this.deviceCodes.ttlSeconds,
      interval: this.deviceCodes.pollIntervalSeconds,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${auth.userCode} to authenticate.`,
    };
  }

  /** `POST /devicelogin`: the code and the account, approved, or declined with Cancel */
  confirm(form: FormFields): DeviceLoginOutcome {
    const userCode = field(form, 'otc') ?? '';
    const login = field(form, 'login');
    const auth: DeviceAuthorization | undefined = this.deviceCodes.findPending(userCode);
    if (!auth) {
      return { kind: 'form', userCode, login, error: "That code didn't work. Check the code and try again." };
    }
    if (field(form, 'cancel') !== undefined) {
      this.deviceCodes.decline(auth);
      return { kind: 'declined', clientId: auth.clientId };
    }
    const result = this.signIn.authenticate(auth.tenant, login, field(form, 'password'));
    if (!result.ok) return { kind: 'form', userCode, login, error: result.message };
    this.deviceCodes.approve(auth, this.signIn.grantFor(result.mailbox, auth.clientId, auth.scopes, true));
    return { kind: 'approved', clientId: auth.clientId };
  }
}
