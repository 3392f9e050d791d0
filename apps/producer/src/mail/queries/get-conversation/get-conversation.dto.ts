import { ApiProperty } from '@nestjs/swagger';
import { CONVERSATION_READ_LIMIT, type ConversationView } from '@email-core/database';
import { MessageSummaryDto } from '../list-messages/list-messages.dto';

export class ConversationDto implements ConversationView {
  @ApiProperty()
  id!: string;

  @ApiProperty({ description: 'all its messages in the mirror, across folders' })
  messageCount!: number;

  @ApiProperty({
    type: () => [MessageSummaryDto],
    description: `oldest first, across folders (the latest ${CONVERSATION_READ_LIMIT}); bodies through GET messages/:messageId`,
  })
  messages!: MessageSummaryDto[];
}
