import { Link } from 'react-router';
import type { Account, Folder } from '@/hooks/use-mail';
import { folderDepths, folderIcon } from './format';
import { mailPath } from './mail-path';
import { Icon } from './icons';

interface Props {
  accounts: Account[];
  account: Account;
  folders: Folder[] | undefined;
  folderId: string | undefined;
  onAccount: (accountId: string) => void;
  onCompose: () => void;
  onPick: () => void;
}

const STATUS: Record<Account['status'], string | null> = {
  synced: null,
  syncing: 'Syncing…',
  reauth_required: 'Needs re-authorization',
  error: 'Sync error',
};

/** Account picker, "New message", and the folder tree with unread counts. */
export function FolderPane({ accounts, account, folders, folderId, onAccount, onCompose, onPick }: Props) {
  const depth = folders ? folderDepths(folders) : new Map<string, number>();
  const status = STATUS[account.status];
  return (
    <aside className="mail-folders">
      <div className="mail-folders-top">
        {accounts.length > 1 ? (
          <select aria-label="Account" value={account.id} onChange={(e) => onAccount(e.target.value)}>
            {accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.email}
              </option>
            ))}
          </select>
        ) : (
          <div className="mail-account" title={account.email}>
            <strong>{account.displayName || account.email}</strong>
            {account.displayName && <span className="muted">{account.email}</span>}
          </div>
        )}
        {status && (
          <Link to="/accounts" className={`mail-account-status mail-account-${account.status}`}>
            {status}
          </Link>
        )}
        <button
          type="button"
          className="primary mail-compose-button"
          onClick={onCompose}
          title="New message (c)"
        >
          <Icon name="pencil" /> New message
        </button>
      </div>
      <nav aria-label="Folders">
        {!folders ? (
          <p className="muted mail-folders-loading">Loading folders…</p>
        ) : (
          <ul className="mail-folder-list">
            {folders.map((f) => {
              const current = f.id === folderId;
              return (
                <li key={f.id}>
                  <Link
                    to={mailPath(account.id, f.id)}
                    className={`mail-folder${current ? ' mail-folder-current' : ''}${f.unreadCount ? ' mail-folder-unread' : ''}`}
                    aria-current={current ? 'page' : undefined}
                    style={{ paddingLeft: `${0.6 + (depth.get(f.id) ?? 0) * 0.9}rem` }}
                    onClick={onPick}
                    data-folder-id={f.id}
                  >
                    <span className="mail-folder-icon">
                      <Icon name={folderIcon(f)} />
                    </span>
                    <span className="mail-folder-name">{f.displayName}</span>
                    {f.unreadCount > 0 && (
                      <span className="mail-folder-count" aria-label={`${f.unreadCount} unread`}>
                        {f.unreadCount}
                      </span>
                    )}
                  </Link>
                </li>
              );
            })}
          </ul>
        )}
      </nav>
    </aside>
  );
}
