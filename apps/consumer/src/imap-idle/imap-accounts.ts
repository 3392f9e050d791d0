import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A linked IMAP account as the watcher sees it. */
export interface WatchedImapAccount {
  id: string;
  /**
   * A hash of the sealed settings' ciphertext: it changes when the account is linked again (new settings, new
   * IV), which is how a watcher that stopped after a refused login knows it may try again. Not a secret.
   */
  credentialTag: string;
}

/** The accounts of provider 'imap' to watch: linked, with sealed settings, not waiting for re-authorization. */
@Injectable()
export class ImapAccounts {
  constructor(private readonly dataSource: DataSource) {}

  async linked(): Promise<WatchedImapAccount[]> {
    const rows: Array<{ id: string; tag: string }> = await this.dataSource.query(
      `SELECT id, md5(access_token_enc) AS tag FROM mail_accounts
        WHERE provider = 'imap' AND status <> 'reauth_required' AND access_token_enc IS NOT NULL
        ORDER BY id`,
    );
    return rows.map((r) => ({ id: r.id, credentialTag: r.tag }));
  }
}
