import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { errorMessage } from '@/api/client';
import { useToast } from '@/components/ui/toast';
import {
  useAccountFolders,
  useAccounts,
  useConnectOutlook,
  useResync,
  useUnlink,
  type Account,
} from '@/hooks/use-accounts';
import { useDesktopNotifications } from '@/hooks/use-desktop-notifications';
import { useSyncProgress, withStoredProgress, type SyncProgressState } from '@/realtime/sync-progress';
import { ConnectImapForm } from './connect-imap';
import { SignatureSetting } from './signature-setting';
import './accounts.css';

const count = new Intl.NumberFormat();
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Why linking failed, by the code the OAuth callback sent the browser back with (`?linkError=<CODE>`). */
const LINK_ERRORS: Record<string, string> = {
  CONSENT_DENIED:
    'Access to the mailbox was not granted at Microsoft, so nothing was linked. To link it, connect again and accept the permissions Email Core asks for.',
  INVALID_STATE:
    'That sign-in expired, was already used, or was started in another browser, so nothing was linked. Start again with Connect Outlook.',
  AUTHORIZATION_FAILED:
    'Microsoft did not authorize the request, so nothing was linked. Try connecting again.',
  MISSING_CODE: 'Microsoft sent no sign-in back, so nothing was linked. Try connecting again.',
  CODE_REJECTED:
    'Microsoft no longer accepted the sign-in (it expired or was already used), so nothing was linked. Start again with Connect Outlook.',
  IDENTITY_PROVIDER_ERROR:
    "Microsoft's sign-in service could not complete the request, so nothing was linked. Try again in a moment.",
};

function linkErrorMessage(code: string): string {
  return (
    LINK_ERRORS[code] ??
    `Linking the mailbox failed${/^[A-Z_]{1,40}$/.test(code) ? ` (${code})` : ''}, so nothing was linked. Try connecting again.`
  );
}

/** Where a mailbox lives, as its card names it. */
const PROVIDER_LABEL: Record<string, string> = { outlook: 'Outlook', imap: 'IMAP' };

const STATUS_LABEL: Record<Account['status'], string> = {
  syncing: 'Syncing',
  synced: 'Synced',
  reauth_required: 'Needs re-authorization',
  error: 'Sync failed',
};

/** Linked mailboxes (Outlook, IMAP): connect one, watch its first sync, reconnect, resync or unlink. */
export function AccountsPage() {
  const accounts = useAccounts();
  const connect = useConnectOutlook();
  const progress = useSyncProgress();
  const toast = useToast();
  const [params, setParams] = useSearchParams();
  const [highlight, setHighlight] = useState<string | null>(null);
  const [linkError, setLinkError] = useState<string | null>(null);
  const linkedHandled = useRef<string | null>(null);
  /** the Connect IMAP form: closed, or open (with the address of an IMAP account to reconnect) */
  const [imapForm, setImapForm] = useState<{ email: string } | null>(null);
  const imapButton = useRef<HTMLButtonElement>(null);
  const openImap = (email = '') => setImapForm({ email });
  const closeImap = () => {
    setImapForm(null);
    requestAnimationFrame(() => imapButton.current?.focus());
  };

  // back from Microsoft: `?linked=<id>` names the mailbox just linked (once; then the URL is tidied)
  const linked = params.get('linked');
  useEffect(() => {
    if (!linked || linkedHandled.current === linked) return;
    linkedHandled.current = linked;
    setHighlight(linked);
    toast.show({ title: 'Mailbox linked', body: 'Its mail is being synced now.', tone: 'success' });
    setParams(
      (p) => {
        p.delete('linked');
        return p;
      },
      { replace: true },
    );
  }, [linked, setParams, toast]);

  // back from Microsoft without a mailbox: `?linkError=<CODE>` says why (kept on screen until dismissed)
  const failed = params.get('linkError');
  useEffect(() => {
    if (!failed) return;
    setLinkError(failed);
    setParams(
      (p) => {
        p.delete('linkError');
        return p;
      },
      { replace: true },
    );
  }, [failed, setParams]);

  const items = accounts.data?.items ?? [];
  const connectButtons = (
    <div className="accounts-connect">
      <button type="button" className="primary" onClick={() => connect.mutate()} disabled={connect.isPending}>
        {connect.isPending ? 'Opening Microsoft sign-in…' : 'Connect Outlook'}
      </button>
      <button
        ref={imapButton}
        type="button"
        onClick={() => (imapForm ? setImapForm(null) : openImap())}
        aria-expanded={imapForm !== null}
      >
        Connect an IMAP account
      </button>
    </div>
  );
  const imapPanel = imapForm && (
    <ConnectImapForm
      key={imapForm.email}
      initialEmail={imapForm.email}
      onCancel={closeImap}
      onLinked={(id, email) => {
        setImapForm(null);
        setHighlight(id);
        toast.show({
          title: 'Mailbox linked',
          body: `${email}: its mail is being synced now.`,
          tone: 'success',
        });
      }}
    />
  );

  return (
    <main className="page accounts-page">
      <div className="accounts-header">
        <h1>Accounts</h1>
        {items.length > 0 && connectButtons}
      </div>
      {items.length > 0 && imapPanel}
      {linkError && (
        <div className="accounts-error accounts-link-error" role="alert" data-testid="link-error">
          <p>
            <strong>The mailbox was not linked.</strong> {linkErrorMessage(linkError)}
          </p>
          <button type="button" onClick={() => setLinkError(null)}>
            Dismiss
          </button>
        </div>
      )}
      {connect.isError && (
        <p className="accounts-error" role="alert">
          Could not start linking: {errorMessage(connect.error)}
        </p>
      )}

      {accounts.isPending && (
        <p className="muted" role="status">
          Loading accounts…
        </p>
      )}
      {accounts.isError && (
        <p className="accounts-error" role="alert">
          Could not load your accounts: {errorMessage(accounts.error)}{' '}
          <button type="button" onClick={() => void accounts.refetch()}>
            Try again
          </button>
        </p>
      )}

      {accounts.isSuccess && items.length === 0 && (
        <section className="accounts-empty" aria-labelledby="accounts-empty-title">
          <h2 id="accounts-empty-title">No mailbox linked yet</h2>
          <p className="muted">
            Connect an Outlook mailbox to read its mail here (you sign in at Microsoft; Email Core never sees
            your password), or any other mailbox over IMAP and SMTP. The first sync starts right away.
          </p>
          {connectButtons}
        </section>
      )}
      {accounts.isSuccess && items.length === 0 && imapPanel}

      {items.length > 0 && (
        <ul className="accounts-list" aria-label="Linked mailboxes">
          {items.map((account) => (
            <AccountCard
              key={account.id}
              account={account}
              progress={withStoredProgress(progress.get(account.id), account.syncProgress)}
              highlighted={account.id === highlight}
              onReconnect={() => (account.provider === 'imap' ? openImap(account.email) : connect.mutate())}
              reconnecting={connect.isPending}
            />
          ))}
        </ul>
      )}

      <DesktopNotificationsSetting />
    </main>
  );
}

function AccountCard({
  account,
  progress,
  highlighted,
  onReconnect,
  reconnecting,
}: {
  account: Account;
  progress: SyncProgressState | undefined;
  highlighted: boolean;
  onReconnect: () => void;
  reconnecting: boolean;
}) {
  const toast = useToast();
  const resync = useResync();
  const unlink = useUnlink();
  const [confirming, setConfirming] = useState(false);
  const folders = useAccountFolders(account.id, account.status === 'synced');
  const titleId = `account-${account.id}`;
  const card = useRef<HTMLLIElement>(null);

  useEffect(() => {
    if (!highlighted) return;
    card.current?.scrollIntoView({ block: 'nearest' });
    // just linked (back from Microsoft, or from the IMAP form that has now closed): the keyboard goes on from here
    card.current?.focus({ preventScroll: true });
  }, [highlighted]);

  const mirrored = folders.data?.items.reduce((sum, f) => sum + f.totalCount, 0);
  const imap = account.provider === 'imap';

  return (
    <li
      ref={card}
      className={`accounts-card${highlighted ? ' accounts-card-linked' : ''}`}
      aria-labelledby={titleId}
      data-status={account.status}
      data-provider={account.provider}
      data-testid="account-card"
      tabIndex={highlighted ? -1 : undefined}
    >
      <div className="accounts-card-head">
        <div className="accounts-identity">
          <h2 id={titleId}>{account.displayName || account.email}</h2>
          {account.displayName && <span className="muted">{account.email}</span>}
        </div>
        <span
          className={`accounts-provider accounts-provider-${account.provider}`}
          data-testid="account-provider"
        >
          <span className="accounts-visually-hidden">Provider: </span>
          {PROVIDER_LABEL[account.provider] ?? account.provider}
        </span>
        <span className={`accounts-status accounts-status-${account.status}`}>
          {STATUS_LABEL[account.status]}
        </span>
        {highlighted && <span className="accounts-new">Just linked</span>}
      </div>

      {account.status === 'syncing' && <SyncProgressBar account={account} progress={progress} />}

      {account.status === 'synced' && (
        <p className="accounts-detail">
          {mirrored !== undefined ? (
            <>
              {count.format(mirrored)} messages in {count.format(folders.data?.items.length ?? 0)} folders
            </>
          ) : progress?.completed ? (
            <>{count.format(progress.messagesSynced)} messages</>
          ) : null}
          {account.syncCompletedAt && (
            <span className="muted"> · last full sync {when.format(new Date(account.syncCompletedAt))}</span>
          )}
        </p>
      )}

      {account.status === 'reauth_required' && (
        <p className="accounts-detail accounts-warning">
          {imap
            ? "The mail server no longer accepts this mailbox's login"
            : "Microsoft no longer accepts this mailbox's sign-in"}
          {account.statusReason ? ` (${account.statusReason})` : ''}. Mail stays readable but does not update
          until you reconnect{imap ? ' with its current password' : ''}.
        </p>
      )}

      {account.status === 'error' && (
        <p className="accounts-detail accounts-warning">
          The last sync failed{account.statusReason ? `: ${account.statusReason}` : ''}. Resync to try again.
        </p>
      )}

      {(resync.isError || unlink.isError) && (
        <p className="accounts-error" role="alert">
          {errorMessage(resync.error ?? unlink.error)}
        </p>
      )}

      <div className="accounts-actions">
        {account.status === 'reauth_required' && (
          <button type="button" className="primary" onClick={onReconnect} disabled={reconnecting}>
            Reconnect
          </button>
        )}
        {account.status !== 'reauth_required' && (
          <Link className="accounts-open" to={`/mail/${encodeURIComponent(account.id)}`}>
            Open mail
          </Link>
        )}
        <button
          type="button"
          onClick={() =>
            resync.mutate(account.id, {
              onSuccess: () => toast.show({ title: 'Resync requested', body: account.email }),
            })
          }
          disabled={resync.isPending || account.status === 'reauth_required'}
          aria-label={`Resync ${account.email}`}
        >
          {resync.isPending ? 'Requesting…' : 'Resync'}
        </button>
        {!confirming && (
          <button
            type="button"
            className="danger"
            onClick={() => setConfirming(true)}
            aria-label={`Unlink ${account.email}`}
          >
            Unlink
          </button>
        )}
      </div>

      <SignatureSetting account={account} />

      {confirming && (
        <div className="accounts-confirm" role="group" aria-label={`Confirm unlinking ${account.email}`}>
          <p>
            Unlink <strong>{account.email}</strong>? Its mirrored mail is deleted from Email Core (nothing is
            deleted {imap ? 'on the mail server' : 'in Outlook'}).
          </p>
          <div className="accounts-actions">
            <button
              type="button"
              className="danger"
              onClick={() =>
                unlink.mutate(account.id, {
                  onSuccess: () => toast.show({ title: 'Mailbox unlinked', body: account.email }),
                  onSettled: () => setConfirming(false),
                })
              }
              disabled={unlink.isPending}
              autoFocus
            >
              {unlink.isPending ? 'Unlinking…' : 'Yes, unlink'}
            </button>
            <button type="button" onClick={() => setConfirming(false)} disabled={unlink.isPending}>
              Cancel
            </button>
          </div>
        </div>
      )}
    </li>
  );
}

/** What the bar of a running sync measures, from the latest `sync.progress`; null before the first one. */
function syncMeter(
  progress: SyncProgressState | undefined,
  firstSync: boolean,
): { percent: number; byMessages: boolean } | null {
  if (!progress || progress.foldersTotal === 0) return null;
  const folders = Math.round((progress.foldersDone / progress.foldersTotal) * 100);
  // A first sync fetches the whole mailbox, so messages in / the mailbox's total is the honest share. A sync of a
  // mailbox synced before fetches only changes, a handful of the total: it measures folders, as does a mailbox
  // whose total is unknown (0). Mail arriving meanwhile can take the count past the total: capped at 100.
  if (firstSync && progress.messagesTotal > 0) {
    const done = progress.foldersDone === progress.foldersTotal;
    const messages = Math.round((progress.messagesSynced / progress.messagesTotal) * 100);
    return { percent: done ? 100 : Math.min(100, messages), byMessages: true };
  }
  return { percent: Math.min(100, folders), byMessages: false };
}

/**
 * A running sync. Each `sync.progress` carries messages synced so far, the mailbox's total when the sync started
 * and folders done of folders total: a first sync's bar measures messages ("1,234 / 5,000 messages"), a sync of
 * changes measures folders. `GET /accounts` carries no figures, so after a reload the bar waits for the next event.
 */
function SyncProgressBar({
  account,
  progress,
}: {
  account: Account;
  progress: SyncProgressState | undefined;
}) {
  const meter = syncMeter(progress, !account.syncCompletedAt);
  const known = progress !== undefined && meter !== null;
  const percent = meter?.percent ?? 0;
  const label = `Sync of ${account.email}`;
  const messages = known
    ? meter.byMessages
      ? `${count.format(progress.messagesSynced)} / ${count.format(progress.messagesTotal)} messages`
      : `${count.format(progress.messagesSynced)} ${account.syncCompletedAt ? 'changes' : 'messages'}`
    : '';
  const folders = known
    ? `${count.format(progress.foldersDone)} / ${count.format(progress.foldersTotal)} folders`
    : '';
  return (
    <div className="accounts-progress">
      <div
        className={`accounts-bar${known ? '' : ' accounts-bar-indeterminate'}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={known ? percent : undefined}
        aria-valuetext={known ? `${percent}%: ${messages}, ${folders}` : 'starting'}
      >
        {/* a new element when the figures arrive: the fill grows from 0, not back from the sliding stripe */}
        <div
          key={known ? 'known' : 'starting'}
          className="accounts-bar-fill"
          style={known ? { width: `${percent}%` } : undefined}
        />
      </div>
      <p className="accounts-detail" aria-live="polite">
        {known ? (
          <>
            <span data-testid="sync-messages">{messages}</span> · {folders}
          </>
        ) : (
          <span className="muted">
            {account.syncCompletedAt ? 'Fetching changes since the last sync…' : 'Starting the first sync…'}
          </span>
        )}
        {account.syncStartedAt && (
          <span className="muted"> · started {when.format(new Date(account.syncStartedAt))}</span>
        )}
      </p>
    </div>
  );
}

function DesktopNotificationsSetting() {
  const { permission, request } = useDesktopNotifications();
  if (permission === 'unsupported') return null;
  return (
    <section className="accounts-notifications" aria-labelledby="accounts-notify-title">
      <h2 id="accounts-notify-title">Desktop notifications</h2>
      {permission === 'default' && (
        <>
          <p className="muted">Get a desktop notification when new mail arrives in an inbox.</p>
          <button type="button" onClick={() => void request()}>
            Enable desktop notifications
          </button>
        </>
      )}
      {permission === 'granted' && <p className="muted">On: new mail shows a desktop notification.</p>}
      {permission === 'denied' && (
        <p className="muted">
          Blocked by the browser. Allow notifications for this site in its settings to turn them on.
        </p>
      )}
    </section>
  );
}
