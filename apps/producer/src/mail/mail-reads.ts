import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { MailReadRepository, ReadReplica, type Watermark } from '@email-core/database';

/**
 * The mail mirror's reads on the CQRS read side: each runs on the replica or the primary, as ReadReplica decides
 * from the account's watermark (read-your-writes) and the replica's health and lag.
 */
@Injectable()
export class MailReads {
  private readonly repositories = new Map<DataSource, MailReadRepository>();

  constructor(private readonly side: ReadReplica) {}

  run<T>(watermark: Watermark, read: (mail: MailReadRepository) => Promise<T>): Promise<T> {
    return this.side.read(watermark, (db) => read(this.repository(db)));
  }

  private repository(db: DataSource): MailReadRepository {
    let repo = this.repositories.get(db);
    if (!repo) {
      repo = new MailReadRepository(db);
      this.repositories.set(db, repo);
    }
    return repo;
  }
}
