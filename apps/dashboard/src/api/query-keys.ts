/**
 * Every TanStack Query key of the dashboard, in one place, so a live event invalidates exactly what it
 * changed. Keys nest: invalidating `queryKeys.account(id)` also invalidates its folders and messages.
 */
export const queryKeys = {
  me: () => ['me'] as const,
  accounts: () => ['accounts'] as const,
  account: (accountId: string) => ['accounts', accountId] as const,
  folders: (accountId: string) => ['accounts', accountId, 'folders'] as const,
  messages: (accountId: string, filters: Record<string, unknown>) =>
    ['accounts', accountId, 'messages', filters] as const,
  allMessages: (accountId: string) => ['accounts', accountId, 'messages'] as const,
  // under allMessages, so whatever refreshes the message lists refreshes these too
  conversations: (accountId: string, folderId: string) =>
    ['accounts', accountId, 'messages', 'conversations', folderId] as const,
  conversation: (accountId: string, conversationId: string) =>
    ['accounts', accountId, 'messages', 'conversation', conversationId] as const,
  message: (accountId: string, messageId: string) => ['accounts', accountId, 'message', messageId] as const,
  attachments: (messageId: string) => ['attachments', messageId] as const,
  command: (commandId: string) => ['commands', commandId] as const,
  ops: () => ['ops'] as const,
  opsKafka: () => ['ops', 'kafka'] as const,
  opsDeadLetters: () => ['ops', 'dead-letters'] as const,
  opsSubscriptions: () => ['ops', 'subscriptions'] as const,
  opsDatabase: () => ['ops', 'database'] as const,
  opsLive: () => ['ops', 'live'] as const,
};
