import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import { UsersRepository, type UserAuthority } from '@email-core/database';
import { PRODUCER_CONFIG } from '../config.module';
import { isOpsOperator } from '../ops/ops-access';

/**
 * Whether a user is an operator, read from their row in the users table on every call (one primary-key lookup;
 * the Ops API is a handful of calls a minute), never from the access token's email claim, so `npm run ops:grant`
 * and its `--revoke` take effect on the user's next request without a new sign-in. The rule: ops-access.ts.
 */
@Injectable()
export class OperatorRights implements OnModuleInit {
  private readonly logger = new Logger(OperatorRights.name);

  constructor(
    @Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig,
    private readonly users: UsersRepository,
  ) {}

  onModuleInit(): void {
    if (this.config.ops.wildcardIgnored)
      this.logger.warn(
        'OPS_ADMIN_EMAILS=* is ignored: it makes nobody an operator. Grant each one: npm run ops:grant -- <email>',
      );
  }

  /** false for an unknown (e.g. deleted) user */
  async isOperator(userId: string): Promise<boolean> {
    const authority = await this.users.findAuthority(userId);
    return authority !== null && this.decide(authority);
  }

  /** the rule applied to a row the caller already read */
  decide(authority: UserAuthority): boolean {
    return isOpsOperator(this.config.ops, authority);
  }
}
