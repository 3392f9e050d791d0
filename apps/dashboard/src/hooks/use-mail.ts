import { useInfiniteQuery, useQuery, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '@/api/client';
import { queryKeys } from '@/api/query-keys';

/** accounts come from `@/hooks/use-accounts` (one query for the Accounts page and the mail view) */
export { useAccounts, type Account } from '@/hooks/use-accounts';
export type Folder = Schemas['FolderDto'];
export type MessageSummary = Schemas['MessageSummaryDto'];
export type MessageDetail = Schemas['MessageDetailDto'];
export type MessagePage = Schemas['MessagePageDto'];
export type Attachment = Schemas['AttachmentDto'];

/** Rows per page of the message list: enough to fill a tall screen twice, small enough to arrive at once. */
export const MESSAGE_PAGE_SIZE = 100;

/** What the list shows: a folder (or every folder while searching), narrowed by the filter toggles. */
export interface MessageFilters {
  folderId?: string;
  q?: string;
  unread?: boolean;
  flagged?: boolean;
  hasAttachments?: boolean;
  from?: string;
  after?: string;
}

export function useFolders(accountId: string | undefined) {
  return useQuery({
    queryKey: queryKeys.folders(accountId ?? ''),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/accounts/{accountId}/folders', { params: { path: { accountId: accountId! } } }),
      ),
    enabled: Boolean(accountId),
  });
}

/** the filters as the query key and the query string want them: absent, never `undefined` or `false` */
export function filterParams(filters: MessageFilters): MessageFilters {
  const out: MessageFilters = {};
  if (filters.folderId) out.folderId = filters.folderId;
  if (filters.q?.trim()) out.q = filters.q.trim();
  if (filters.unread) out.unread = true;
  if (filters.flagged) out.flagged = true;
  if (filters.hasAttachments) out.hasAttachments = true;
  if (filters.from?.trim()) out.from = filters.from.trim();
  if (filters.after) out.after = filters.after;
  return out;
}

/** The list, newest first, a page at a time by keyset cursor. */
export function useMessageList(accountId: string | undefined, filters: MessageFilters, enabled = true) {
  const params = filterParams(filters);
  return useInfiniteQuery({
    queryKey: queryKeys.messages(accountId ?? '', { ...params }),
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET('/api/v1/accounts/{accountId}/messages', {
          params: {
            path: { accountId: accountId! },
            query: { ...params, limit: MESSAGE_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) },
          },
          signal,
        }),
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: Boolean(accountId) && enabled,
  });
}

export function useMessage(accountId: string | undefined, messageId: string | undefined) {
  return useQuery({
    queryKey: queryKeys.message(accountId ?? '', messageId ?? ''),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/accounts/{accountId}/messages/{messageId}', {
          params: { path: { accountId: accountId!, messageId: messageId! } },
        }),
      ),
    enabled: Boolean(accountId && messageId),
  });
}

/** One message read once, outside a component's render (the query cache's copy when it has one). */
export function fetchMessage(
  client: QueryClient,
  accountId: string,
  messageId: string,
): Promise<MessageDetail> {
  return client.fetchQuery({
    queryKey: queryKeys.message(accountId, messageId),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/accounts/{accountId}/messages/{messageId}', {
          params: { path: { accountId, messageId } },
        }),
      ),
  });
}

export function useAttachments(messageId: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.attachments(messageId ?? ''),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/messages/{messageId}/attachments', { params: { path: { messageId: messageId! } } }),
      ),
    enabled: Boolean(messageId) && enabled,
    staleTime: 5 * 60_000,
  });
}

type MessagePatch = Partial<Pick<MessageSummary, 'isRead' | 'flagStatus' | 'folderId'>>;

/**
 * Optimistic edits of what is cached: the patch applied to every loaded list row and the open message of these
 * ids, or the rows taken out (a move out of the shown folder, a delete). Folder counts follow. The next refetch
 * (after the command's outcome, or a live `mail.changed`) replaces all of it with the server's state.
 */
export function patchCachedMessages(
  client: QueryClient,
  accountId: string,
  ids: readonly string[],
  patch: MessagePatch | 'remove',
): void {
  const wanted = new Set(ids);
  const before = new Map<string, MessageSummary>();
  for (const [, data] of client.getQueriesData<InfiniteData<MessagePage>>({
    queryKey: queryKeys.allMessages(accountId),
  })) {
    for (const page of data?.pages ?? []) {
      for (const m of page.items) if (wanted.has(m.id) && !before.has(m.id)) before.set(m.id, m);
    }
  }
  for (const id of ids) {
    const detail = client.getQueryData<MessageDetail>(queryKeys.message(accountId, id));
    if (detail && !before.has(id)) before.set(id, detail);
  }

  const lists = client.getQueriesData<InfiniteData<MessagePage>>({
    queryKey: queryKeys.allMessages(accountId),
  });
  for (const [key, data] of lists) {
    // a conversation (use-conversations) is not a page list: the refetch after the command updates it
    if (!data?.pages) continue;
    // a row leaves a folder's list when it is deleted or moved to another folder; search lists keep it
    const listFolder = (key[3] as MessageFilters | undefined)?.folderId;
    const leaves =
      patch === 'remove' ||
      (listFolder !== undefined && patch.folderId !== undefined && patch.folderId !== listFolder);
    client.setQueryData<InfiniteData<MessagePage>>(key, {
      ...data,
      pages: data.pages.map((page) => ({
        ...page,
        items: page.items.flatMap((m) => {
          if (!wanted.has(m.id)) return [m];
          if (leaves) return [];
          return [{ ...m, ...patch }];
        }),
      })),
    });
  }
  if (patch !== 'remove') {
    for (const id of ids) {
      client.setQueryData<MessageDetail>(queryKeys.message(accountId, id), (m) =>
        m ? { ...m, ...patch } : m,
      );
    }
  }

  client.setQueryData<Schemas['FolderListDto']>(queryKeys.folders(accountId), (list) => {
    if (!list) return list;
    const delta = new Map<string, { total: number; unread: number }>();
    const bump = (folderId: string, total: number, unread: number) => {
      const d = delta.get(folderId) ?? { total: 0, unread: 0 };
      delta.set(folderId, { total: d.total + total, unread: d.unread + unread });
    };
    for (const m of before.values()) {
      const unread = m.isRead ? 0 : 1;
      if (patch === 'remove') {
        bump(m.folderId, -1, -unread);
        continue;
      }
      const next = { ...m, ...patch };
      const nextUnread = next.isRead ? 0 : 1;
      if (next.folderId !== m.folderId) {
        bump(m.folderId, -1, -unread);
        bump(next.folderId, 1, nextUnread);
      } else if (nextUnread !== unread) {
        bump(m.folderId, 0, nextUnread - unread);
      }
    }
    return {
      items: list.items.map((f) => {
        const d = delta.get(f.id);
        return d
          ? {
              ...f,
              totalCount: Math.max(0, f.totalCount + d.total),
              unreadCount: Math.max(0, f.unreadCount + d.unread),
            }
          : f;
      }),
    };
  });
}

/** the server's state again, after a command finished or failed */
export function refreshMail(client: QueryClient, accountId: string): void {
  void client.invalidateQueries({ queryKey: queryKeys.folders(accountId) });
  void client.invalidateQueries({ queryKey: queryKeys.allMessages(accountId) });
}
