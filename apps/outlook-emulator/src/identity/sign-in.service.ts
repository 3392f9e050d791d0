import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { MailboxStore } from '../store/mailbox-store';
import type { Mailbox } from '../store/model';
import type { Grant } from './grant';
import type { MailboxChoice } from './identity-pages';
import type { ScopeSet } from './scopes';
import { grantedGraphScopes } from './scopes';
import { tenantAdmits } from './tenant';

const MAX_CHOICES = 50;

export type SignInResult = { ok: true; mailbox: Mailbox } | { ok: false; message: string };

/**
 * Checks what a user types on the sign-in and device login pages against the emulator's mailboxes. A mailbox
 * created without a password accepts any (or no) password.
 */
@Injectable()
export class SignInService {
  constructor(private readonly mailboxes: MailboxStore) {}

  /** the accounts the sign-in pages offer: the first ones (a benchmark may create thousands) */
  mailboxChoices(limit = MAX_CHOICES): MailboxChoice[] {
    return this.mailboxes
      .list()
      .slice(0, limit)
      .map((m) => ({
        address: m.address,
        displayName: m.displayName,
        hasPassword: m.password !== undefined,
      }));
  }

  authenticate(tenant: string, login: string | undefined, password: string | undefined): SignInResult {
    const wanted = (login ?? '').trim();
    if (!wanted) return { ok: false, message: 'Enter a valid email address, phone number, or Skype name.' };
    const mailbox = this.mailboxes.findByAddress(wanted);
    if (!mailbox || !tenantAdmits(tenant, mailbox)) {
      // AADSTS50034, as the sign-in page words it
      return {
        ok: false,
        message:
          'This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.',
      };
    }
    if (mailbox.password !== undefined && !samePassword(mailbox.password, password ?? '')) {
      // AADSTS50126
      return {
        ok: false,
        message: "Your account or password is incorrect. If you don't remember your password, reset it now.",
      };
    }
    return { ok: true, mailbox };
  }

  grantFor(
    mailbox: Mailbox,
    clientId: string,
    scopes: ScopeSet,
    publicClient: boolean,
    now = Date.now(),
  ): Grant {
    return {
      clientId,
      address: mailbox.address,
      userId: mailbox.userId,
      tenantId: mailbox.tenantId,
      scopes: grantedGraphScopes(scopes),
      oidc: [...scopes.oidc],
      authTime: now,
      publicClient,
    };
  }
}

function samePassword(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
