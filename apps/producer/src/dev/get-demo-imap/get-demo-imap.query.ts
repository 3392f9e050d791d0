import { Query } from '@nestjs/cqrs';
import type { DemoImapSettingsDto } from './demo-imap.dto';

/** The stack's demo IMAP mailbox, as `POST /accounts/imap` takes it (development only). */
export class GetDemoImapQuery extends Query<DemoImapSettingsDto> {}
