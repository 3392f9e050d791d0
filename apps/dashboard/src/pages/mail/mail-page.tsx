import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, Navigate, useNavigate, useParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { errorMessage } from '@/api/client';
import {
  conversationRow,
  useConversation,
  useConversationList,
  useConversationMode,
} from '@/hooks/use-conversations';
import { useMailActions } from '@/hooks/use-mail-actions';
import { useMailShortcuts } from '@/hooks/use-mail-shortcuts';
import {
  fetchMessage,
  useAccounts,
  useFolders,
  useMessage,
  useMessageList,
  type Account,
  type Folder,
  type MessageSummary,
} from '@/hooks/use-mail';
import { Compose, type ComposeState } from './compose';
import { FolderPane } from './folder-pane';
import { mailPath } from './mail-path';
import { MessageList } from './message-list';
import { Reader } from './reader';
import { SelectionBar, useMultiSelect } from './selection-bar';
import { NO_FILTERS, SearchBar, activeFilterCount, type SearchFilters } from './search-bar';
import type { ToolbarActions } from './mail-toolbar';
import './mail.css';
import { Icon } from './icons';

const SEARCH_DEBOUNCE_MS = 300;
const CONFIRM_DELETE_MS = 4_000;

/**
 * The mail view, `/mail/:accountId?/:folderId?/:messageId?`: folders, the message list and the reader side by
 * side (one at a time on a phone). Missing parts of the path are filled in (the first account, its inbox).
 */
export function MailPage() {
  const { accountId } = useParams();
  const accounts = useAccounts();

  if (accounts.isPending) {
    return (
      <main className="mail-page mail-page-message" role="status">
        Loading accounts…
      </main>
    );
  }
  if (accounts.isError) {
    return (
      <main className="mail-page mail-page-message" role="alert">
        Accounts could not be loaded: {errorMessage(accounts.error)}
      </main>
    );
  }
  const list = accounts.data.items;
  if (!list.length) {
    return (
      <main className="mail-page mail-page-message">
        <div className="mail-empty-state">
          <h1>No mailbox yet</h1>
          <p className="muted">Connect an Outlook or IMAP account and its mail appears here as it syncs.</p>
          <Link to="/accounts" className="mail-empty-link">
            Connect an account
          </Link>
        </div>
      </main>
    );
  }
  const account = list.find((a) => a.id === accountId);
  if (!account) return <Navigate to={mailPath(list[0].id)} replace />;
  return <MailView key={account.id} accounts={list} account={account} />;
}

function daysAgo(days: string): string | undefined {
  if (days === 'any') return undefined;
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - Number(days));
  return d.toISOString();
}

function MailView({ accounts, account }: { accounts: Account[]; account: Account }) {
  const params = useParams();
  const navigate = useNavigate();
  const folders = useFolders(account.id);
  const folderList = folders.data?.items;
  const folder = folderList?.find((f) => f.id === params.folderId);
  const folderId = folder?.id;
  const messageId = folder ? params.messageId : undefined;

  const [searchText, setSearchText] = useState('');
  const [q, setQ] = useState('');
  const [filters, setFilters] = useState<SearchFilters>(NO_FILTERS);
  useEffect(() => {
    const t = setTimeout(() => setQ(searchText.trim()), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [searchText]);
  const searching = q !== '';
  /** what the list shows (and what "select all" selects, resolved by the server) */
  const listFilter = {
    folderId: searching ? undefined : folderId,
    q,
    unread: filters.unread,
    flagged: filters.flagged,
    hasAttachments: filters.hasAttachments,
    after: daysAgo(filters.within),
  };
  // the conversation view: a folder's conversations, one row each (a search or a filter lists messages)
  const [conversationMode, setConversationMode] = useConversationMode();
  const conversationsOn = conversationMode && !searching && activeFilterCount(filters) === 0;
  const conversationList = useConversationList(account.id, folderId, conversationsOn);
  const conversations = useMemo(
    () => conversationList.data?.pages.flatMap((p) => p.items) ?? [],
    [conversationList.data],
  );

  const messageList = useMessageList(
    account.id,
    listFilter,
    !conversationsOn && (searching || Boolean(folderId)),
  );
  const list = conversationsOn ? conversationList : messageList;
  const messageRows = useMemo(
    () => messageList.data?.pages.flatMap((p) => p.items) ?? [],
    [messageList.data],
  );
  const messages = useMemo(
    () => (conversationsOn ? conversations.map(conversationRow) : messageRows),
    [conversationsOn, conversations, messageRows],
  );
  const { fetchNextPage } = list;
  const fetchNext = useCallback(() => void fetchNextPage(), [fetchNextPage]);
  const multiSelect = useMultiSelect({
    accountId: account.id,
    rows: messages,
    hasMore: list.hasNextPage,
    filter: listFilter,
    folder,
    folders: folderList ?? [],
    searching,
    enabled: !conversationsOn,
  });
  const message = useMessage(account.id, messageId);
  const actions = useMailActions(account.id);
  // the open conversation's row (its messages in this folder are what actions apply to) and its whole thread
  const openConversation = conversationsOn
    ? conversations.find((c) => c.latestMessageId === messageId)
    : undefined;
  const thread = useConversation(account.id, conversationsOn ? message.data?.conversationId : undefined);

  const [compose, setCompose] = useState<ComposeState | null>(null);
  const [phoneFolders, setPhoneFolders] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const searchInput = useRef<HTMLInputElement>(null);

  const byWellKnown = useCallback(
    (name: string): Folder | undefined => folderList?.find((f) => f.wellKnownName === name),
    [folderList],
  );
  const folderNames = useMemo(
    () => new Map((folderList ?? []).map((f) => [f.id, f.displayName])),
    [folderList],
  );

  // read on open, once per opening: "mark unread" (u) then sticks while the message stays open
  const markedOnOpen = useRef(new Set<string>());
  useEffect(() => {
    const m = message.data;
    if (!m || m.id !== messageId || markedOnOpen.current.has(m.id)) return;
    markedOnOpen.current.add(m.id);
    if (openConversation?.unreadCount) actions.markRead(openConversation.messageIds, true);
    else if (!m.isRead) actions.markRead([m.id], true);
  }, [message.data, messageId, actions, openConversation]);
  useEffect(() => {
    // opening it again later marks it again
    markedOnOpen.current.forEach((id) => id !== messageId && markedOnOpen.current.delete(id));
  }, [messageId]);

  const open = useCallback(
    (m: MessageSummary, replace = false) => {
      if (folderId) void navigate(mailPath(account.id, folderId, m.id), { replace });
    },
    [navigate, account.id, folderId],
  );
  const openRow = useCallback((m: MessageSummary) => open(m), [open]);

  const index = messageId ? messages.findIndex((m) => m.id === messageId) : -1;
  const step = (delta: 1 | -1) => {
    if (!messages.length) return;
    const next = index < 0 ? 0 : index + delta;
    if (next >= messages.length) {
      if (list.hasNextPage && !list.isFetchingNextPage) void list.fetchNextPage();
      return;
    }
    const target = messages[Math.max(0, next)];
    if (target) open(target, true);
  };

  /** after the open message leaves the list: the next one (Outlook's habit), else the previous, else none */
  const leaveMessage = () => {
    const next = messages[index + 1] ?? messages[index - 1];
    if (next && next.id !== messageId) open(next, true);
    else if (folderId) void navigate(mailPath(account.id, folderId), { replace: true });
  };

  const current = message.data && message.data.id === messageId ? message.data : undefined;
  const deleted = byWellKnown('deleteditems');
  const archive = byWellKnown('archive');
  const permanentDelete = !deleted || current?.folderId === deleted.id;
  /** what the toolbar acts on: the open message, or in the conversation view its conversation's in this folder */
  const targets = openConversation ? openConversation.messageIds : current ? [current.id] : [];
  const targetsRead = openConversation ? openConversation.unreadCount === 0 : current?.isRead;
  const targetsFlagged = openConversation ? openConversation.flagged : current?.flagStatus === 'flagged';

  // a draft opens into compose, not the reader; its Send sends that draft (docs/mail-actions.md#drafts). A reply or
  // forward draft opens as one (its original read first; gone, the draft opens as a new mail)
  const draftsFolder = byWellKnown('drafts');
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!current || !draftsFolder || current.folderId !== draftsFolder.id) return;
    const draft = current;
    const origin = draft.draftOrigin;
    if (origin) {
      fetchMessage(queryClient, account.id, origin.messageId).then(
        (original) => setCompose({ mode: origin.kind, original, draft }),
        () => setCompose({ mode: 'new', draft }),
      );
    } else {
      setCompose({ mode: 'new', draft });
    }
    if (folderId) void navigate(mailPath(account.id, folderId), { replace: true });
  }, [current, draftsFolder, folderId, navigate, account.id, queryClient]);

  useEffect(() => {
    if (!confirmDelete) return;
    const t = setTimeout(() => setConfirmDelete(null), CONFIRM_DELETE_MS);
    return () => clearTimeout(t);
  }, [confirmDelete]);

  const toolbar: ToolbarActions = {
    reply: () => current && setCompose({ mode: 'reply', original: current }),
    replyAll: () => current && setCompose({ mode: 'replyAll', original: current }),
    forward: () => current && setCompose({ mode: 'forward', original: current }),
    toggleRead: () => current && actions.markRead(targets, !targetsRead),
    toggleFlag: () => current && actions.flag(targets, targetsFlagged ? 'notFlagged' : 'flagged'),
    archive:
      archive && current && current.folderId !== archive.id
        ? () => {
            leaveMessage();
            actions.move(targets, archive.id, archive.displayName);
          }
        : undefined,
    moveTo: (destination) => {
      const target = folderList?.find((f) => f.id === destination);
      if (!current || !target) return;
      leaveMessage();
      actions.move(targets, target.id, target.displayName);
    },
    remove: () => {
      if (!current) return;
      if (!permanentDelete && deleted) {
        leaveMessage();
        actions.move(targets, deleted.id, deleted.displayName);
        return;
      }
      if (confirmDelete !== current.id) {
        setConfirmDelete(current.id);
        return;
      }
      setConfirmDelete(null);
      leaveMessage();
      actions.deleteForever(targets);
    },
    confirmingDelete: Boolean(current && confirmDelete === current.id),
    permanentDelete,
  };

  useMailShortcuts({
    j: () => step(1),
    k: () => step(-1),
    '/': () => searchInput.current?.focus(),
    u: toolbar.toggleRead,
    s: toolbar.toggleFlag,
    e: () => toolbar.archive?.(),
    '#': toolbar.remove,
    v: () => document.querySelector<HTMLSelectElement>('.mail-move')?.focus(),
    r: toolbar.reply,
    a: toolbar.replyAll,
    f: toolbar.forward,
    c: () => setCompose({ mode: 'new' }),
    Escape: () => {
      if (compose) setCompose(null);
      else if (messageId && folderId) void navigate(mailPath(account.id, folderId));
    },
  });

  if (folders.isError) {
    return (
      <main className="mail-page mail-page-message" role="alert">
        Folders could not be loaded: {errorMessage(folders.error)}
      </main>
    );
  }
  if (folderList && !folder) {
    const home = byWellKnown('inbox') ?? folderList[0];
    if (home) return <Navigate to={mailPath(account.id, home.id)} replace />;
  }

  const pane = messageId ? 'reader' : phoneFolders ? 'folders' : 'list';
  const filterCount = activeFilterCount(filters);
  const showRecipient =
    !searching &&
    !conversationsOn &&
    (folder?.wellKnownName === 'sentitems' || folder?.wellKnownName === 'drafts');
  const heading = searching ? `Results for “${q}”` : (folder?.displayName ?? 'Mail');
  const countText = searching
    ? `${messages.length}${list.hasNextPage ? '+' : ''} found in all folders`
    : folder
      ? `${conversationsOn ? `${messages.length}${list.hasNextPage ? '+' : ''} conversations, ` : ''}${folder.totalCount.toLocaleString()} messages${folder.unreadCount ? `, ${folder.unreadCount.toLocaleString()} unread` : ''}`
      : '';

  return (
    <main className={`mail-page mail-pane-${pane}`}>
      <FolderPane
        accounts={accounts}
        account={account}
        folders={folderList}
        folderId={folderId}
        onAccount={(id) => void navigate(mailPath(id))}
        onCompose={() => setCompose({ mode: 'new' })}
        onPick={() => {
          setPhoneFolders(false);
          setSearchText('');
          setQ('');
        }}
      />
      <section className="mail-list" aria-label="Message list">
        <div className="mail-list-head">
          <button
            type="button"
            className="mail-back"
            onClick={() => setPhoneFolders(true)}
            aria-label="Show folders"
          >
            <Icon name="menu" /> Folders
          </button>
          <SearchBar
            inputRef={searchInput}
            text={searchText}
            onText={setSearchText}
            filters={filters}
            onFilters={setFilters}
          />
          <div className="mail-list-title">
            <h1>{heading}</h1>
            <label className="mail-conversations-toggle">
              <input
                type="checkbox"
                checked={conversationMode}
                onChange={(e) => setConversationMode(e.target.checked)}
              />{' '}
              Conversations
            </label>
            <span className="muted" aria-live="polite">
              {countText}
              {filterCount > 0 && ` · ${filterCount} ${filterCount === 1 ? 'filter' : 'filters'}`}
            </span>
          </div>
        </div>
        {multiSelect.enabled && <SelectionBar {...multiSelect.bar} />}
        {list.isError ? (
          <div className="mail-list-empty" role="alert">
            Messages could not be loaded: {errorMessage(list.error)}
          </div>
        ) : (
          <MessageList
            messages={messages}
            selectedId={messageId}
            onOpen={openRow}
            onStep={step}
            hasNextPage={list.hasNextPage}
            isFetchingNextPage={list.isFetchingNextPage}
            fetchNextPage={fetchNext}
            folderNames={searching ? folderNames : undefined}
            showRecipient={showRecipient}
            {...multiSelect.list}
            loading={list.isPending && (searching || Boolean(folderId))}
            emptyText={
              searching || filterCount
                ? 'Nothing matches.'
                : account.status === 'syncing'
                  ? 'Syncing… mail appears here as it arrives.'
                  : 'No messages in this folder.'
            }
          />
        )}
      </section>
      <Reader
        message={current}
        loading={Boolean(messageId) && message.isPending}
        error={message.isError ? message.error : null}
        folders={folderList ?? []}
        actions={toolbar}
        onBack={() => folderId && void navigate(mailPath(account.id, folderId))}
        conversation={
          conversationsOn && thread.data && thread.data.id === current?.conversationId
            ? { accountId: account.id, messages: thread.data.messages.filter((m) => m.id !== current.id) }
            : undefined
        }
      />
      {compose && (
        <Compose
          key={`${compose.mode}-${compose.original?.id ?? compose.draft?.id ?? 'new'}`}
          state={compose}
          accountId={account.id}
          ownAddress={account.email}
          signatureHtml={account.signatureHtml}
          onSend={(request) => actions.send(request)}
          onClose={() => setCompose(null)}
        />
      )}
    </main>
  );
}
