import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AuthModule } from '../auth/auth.module';
import { DevController } from './dev.controller';
import { GetDemoImapQueryHandler } from './get-demo-imap/get-demo-imap.query-handler';

/** Development helpers (`/api/v1/dev/*`): each answers 404 unless `NODE_ENV=development` configured it. */
@Module({
  imports: [CqrsModule, AuthModule],
  controllers: [DevController],
  providers: [GetDemoImapQueryHandler],
})
export class DevModule {}
