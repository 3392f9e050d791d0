import { Module } from '@nestjs/common';
import { GraphModule } from '../graph/graph.module';
import { ActivityService } from './activity.service';
import { AdminAttachmentsController } from './admin-attachments.controller';
import { AdminFaultsController } from './admin-faults.controller';
import { AdminMailboxesController } from './admin-mailboxes.controller';

/** the loopback-only admin API under /_emulator */
@Module({
  imports: [GraphModule],
  controllers: [AdminMailboxesController, AdminFaultsController, AdminAttachmentsController],
  providers: [ActivityService],
})
export class AdminModule {}
