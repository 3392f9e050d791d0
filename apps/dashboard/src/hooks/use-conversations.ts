import { useCallback, useState } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '@/api/client';
import { queryKeys } from '@/api/query-keys';
import { MESSAGE_PAGE_SIZE, type MessageSummary } from '@/hooks/use-mail';

export type ConversationSummary = Schemas['ConversationSummaryDto'];
export type Conversation = Schemas['ConversationDto'];

/** A folder's conversations, newest first by their latest message there, a page at a time by keyset cursor. */
export function useConversationList(accountId: string, folderId: string | undefined, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: queryKeys.conversations(accountId, folderId ?? ''),
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET('/api/v1/accounts/{accountId}/conversations', {
          params: {
            path: { accountId },
            query: {
              folderId: folderId!,
              limit: MESSAGE_PAGE_SIZE,
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
          signal,
        }),
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: enabled && Boolean(folderId),
  });
}

/** A whole conversation, oldest first, across folders. */
export function useConversation(accountId: string, conversationId: string | null | undefined) {
  return useQuery({
    queryKey: queryKeys.conversation(accountId, conversationId ?? ''),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/accounts/{accountId}/conversations/{conversationId}', {
          params: { path: { accountId, conversationId: conversationId! } },
        }),
      ),
    enabled: Boolean(conversationId),
  });
}

const MODE_KEY = 'ec-mail-conversations';

/** Whether the list groups mail by conversation: the user's choice, kept in this browser. */
export function useConversationMode(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(() => localStorage.getItem(MODE_KEY) === '1');
  const set = useCallback((next: boolean) => {
    localStorage.setItem(MODE_KEY, next ? '1' : '0');
    setOn(next);
  }, []);
  return [on, set];
}

/** A conversation as a row of the message list: its latest message, its senders and count in the sender column. */
export function conversationRow(c: ConversationSummary): MessageSummary {
  const names = c.participants.map((p) => (p.name && p.name !== p.address ? p.name : p.address));
  // several people: first names, as mail apps list a thread's senders (the count must stay in view)
  const shown =
    names.length > 1 ? names.map((n) => (n.includes('@') ? n.split('@')[0] : n.split(' ')[0])) : names;
  return {
    id: c.latestMessageId,
    folderId: c.folderId,
    subject: c.subject,
    from: {
      name: `${shown.join(', ') || '(no sender)'}${c.messageCount > 1 ? ` (${c.messageCount})` : ''}`,
      address: '',
    },
    toRecipients: [],
    ccRecipients: [],
    bodyPreview: c.bodyPreview,
    receivedAt: c.receivedAt,
    sentAt: null,
    isRead: c.unreadCount === 0,
    flagStatus: c.flagged ? 'flagged' : 'notFlagged',
    importance: 'normal',
    hasAttachments: c.hasAttachments,
    conversationId: c.id,
  };
}
