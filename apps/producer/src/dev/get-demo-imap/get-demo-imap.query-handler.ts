import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../../config.module';
import { AppError } from '../../http/app-error';
import type { DemoImapSettingsDto } from './demo-imap.dto';
import { GetDemoImapQuery } from './get-demo-imap.query';

/**
 * Answers the demo mailbox's settings from the configuration (`DEMO_IMAP_*`, which `npm start` sets), or 404
 * `NOT_FOUND` when there are none: always outside `NODE_ENV=development` (libs/config drops them there), so a
 * deployment never hands out a password through this route.
 */
@QueryHandler(GetDemoImapQuery)
export class GetDemoImapQueryHandler implements IQueryHandler<GetDemoImapQuery, DemoImapSettingsDto> {
  constructor(@Inject(PRODUCER_CONFIG) private readonly config: Pick<ProducerConfig, 'demoImap'>) {}

  execute(): Promise<DemoImapSettingsDto> {
    const demo = this.config.demoImap;
    if (!demo) return Promise.reject(new AppError('NOT_FOUND', 'not_found', 'no demo mailbox here'));
    const login = { username: demo.email, password: demo.password };
    return Promise.resolve({
      email: demo.email,
      imap: { ...demo.imap, ...login },
      smtp: { ...demo.smtp, ...login },
    });
  }
}
