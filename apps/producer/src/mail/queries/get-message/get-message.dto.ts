import { ApiProperty } from '@nestjs/swagger';
import type { MessageBodyView, MessageDetailView } from '@email-core/database';
import { MessageSummaryDto } from '../list-messages/list-messages.dto';

export class MessageBodyDto implements MessageBodyView {
  @ApiProperty({ enum: ['html', 'text'] })
  contentType!: 'html' | 'text';

  @ApiProperty({ description: 'the full body, as Graph returned it' })
  content!: string;
}

export class DraftOriginDto {
  @ApiProperty({ description: 'the message the draft answers (its id in the mirror)' })
  messageId!: string;

  @ApiProperty({ enum: ['reply', 'replyAll', 'forward'] })
  kind!: 'reply' | 'replyAll' | 'forward';
}

export class MessageDetailDto extends MessageSummaryDto implements MessageDetailView {
  @ApiProperty({ type: () => MessageBodyDto, nullable: true })
  body!: MessageBodyDto | null;

  @ApiProperty({
    type: () => DraftOriginDto,
    nullable: true,
    description:
      'a reply or forward draft saved through Email Core: the message it answers and how, so a draft reopened from Drafts opens as the reply it is; null for any other message',
  })
  draftOrigin!: DraftOriginDto | null;
}
