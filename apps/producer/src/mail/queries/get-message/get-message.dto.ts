import { ApiProperty } from '@nestjs/swagger';
import type { MessageBodyView, MessageDetailView } from '@email-core/database';
import { MessageSummaryDto } from '../list-messages/list-messages.dto';

export class MessageBodyDto implements MessageBodyView {
  @ApiProperty({ enum: ['html', 'text'] })
  contentType!: 'html' | 'text';

  @ApiProperty({ description: 'the full body, as Graph returned it' })
  content!: string;
}

export class MessageDetailDto extends MessageSummaryDto implements MessageDetailView {
  @ApiProperty({ type: () => MessageBodyDto, nullable: true })
  body!: MessageBodyDto | null;
}
