import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../../config.module';
import { CodeStore } from './code-store';
import { newOneTimeCode, type CodePurpose } from './one-time-code';
import { SystemMailOutbox } from './system-mail-outbox';

/** The subject of a verification code: the user and the address it was sent to, so it verifies only that pair. */
export function verificationSubject(userId: string, email: string): string {
  return `${userId}:${email.toLowerCase()}`;
}

/** Adds a code's mail inside the caller's transaction. */
export type AddCodeMail = (manager: EntityManager) => Promise<void>;

/**
 * A mailed code: stored (as its MAC, replacing the subject's earlier one) before the transaction, and its mail added
 * to the outbox inside it, with the state that needs it; `committed` after, to wake the relay.
 */
@Injectable()
export class CodeMail {
  constructor(
    @Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig,
    private readonly codes: CodeStore,
    private readonly mail: SystemMailOutbox,
  ) {}

  /** A sign-in code for an address, known or not. */
  async prepareSignIn(email: string): Promise<AddCodeMail> {
    return this.prepare('sign-in', email, email, this.config.codes.signInTtlSeconds);
  }

  /** A verification code for a user's address. */
  async prepareVerification(user: { id: string; email: string }): Promise<AddCodeMail> {
    const subject = verificationSubject(user.id, user.email);
    return this.prepare('verify-email', subject, user.email, this.config.codes.verifyEmailTtlSeconds);
  }

  private async prepare(
    purpose: CodePurpose,
    subject: string,
    to: string,
    validSeconds: number,
  ): Promise<AddCodeMail> {
    const code = newOneTimeCode();
    await this.codes.issue(purpose, subject, code, validSeconds);
    const template = purpose === 'sign-in' ? 'sign-in-code' : 'verify-email';
    return async (manager) => {
      await this.mail.add(manager, { template, to, code, validSeconds });
    };
  }

  committed(): void {
    this.mail.committed();
  }
}
