import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { UsersAccountsMail1763900000000 } from './1763900000000-users-accounts-mail';
import { LiveMail1764000000000 } from './1764000000000-live-mail';
import { MailCommands1764100000000 } from './1764100000000-mail-commands';
import { FolderRebuild1764200000000 } from './1764200000000-folder-rebuild';
import { UserRoles1764300000000 } from './1764300000000-user-roles';
import { CommandUploads1764310000000 } from './1764310000000-command-uploads';
import { ProviderNeutralColumns1764320000000 } from './1764320000000-provider-neutral-columns';
import { PasswordlessUsers1764400000000 } from './1764400000000-passwordless-users';
import { ReadsAtSize1764500000000 } from './1764500000000-reads-at-size';
import { OutboxCorrelationId1764600000000 } from './1764600000000-outbox-correlation-id';
import { Conversations1764700000000 } from './1764700000000-conversations';
import { Drafts1764710000000 } from './1764710000000-drafts';
import { AccountSignatures1764720000000 } from './1764720000000-account-signatures';
import { UploadSessions1764730000000 } from './1764730000000-upload-sessions';
import { CommandBatches1764740000000 } from './1764740000000-command-batches';
import { CreatedChangesSyncProgress1764750000000 } from './1764750000000-created-changes-sync-progress';
import { ArrivalsDraftOrigins1764763000000 } from './1764763000000-arrivals-draft-origins';

/** Every migration, in order. Listed explicitly so bundled builds need no file globbing. */
export const migrations = [
  InitialSchema1763800000000,
  UsersAccountsMail1763900000000,
  LiveMail1764000000000,
  MailCommands1764100000000,
  FolderRebuild1764200000000,
  UserRoles1764300000000,
  CommandUploads1764310000000,
  ProviderNeutralColumns1764320000000,
  PasswordlessUsers1764400000000,
  ReadsAtSize1764500000000,
  OutboxCorrelationId1764600000000,
  Conversations1764700000000,
  Drafts1764710000000,
  AccountSignatures1764720000000,
  UploadSessions1764730000000,
  CommandBatches1764740000000,
  CreatedChangesSyncProgress1764750000000,
  ArrivalsDraftOrigins1764763000000,
];
