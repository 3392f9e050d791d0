import { ApiProperty } from '@nestjs/swagger';
import type { FolderView } from '@email-core/database';

export class FolderDto implements FolderView {
  @ApiProperty({ description: 'Graph folder id (immutable)' })
  id!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the parent folder id; null for a top-level folder',
  })
  parentId!: string | null;

  @ApiProperty()
  displayName!: string;

  @ApiProperty({ type: String, nullable: true, example: 'inbox' })
  wellKnownName!: string | null;

  @ApiProperty({ description: 'messages in this folder (not its subfolders), counted from the mirror' })
  totalCount!: number;

  @ApiProperty({ description: 'unread messages in this folder (not its subfolders)' })
  unreadCount!: number;
}

export class FolderListDto {
  @ApiProperty({
    type: () => [FolderDto],
    description:
      'depth-first tree order: a parent before its children, siblings well-known first then by name',
  })
  items!: FolderDto[];
}
