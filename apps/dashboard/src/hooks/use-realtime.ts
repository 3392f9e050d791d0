import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useNavigate } from 'react-router';
import { useSession } from '@/auth/session';
import { useToast } from '@/components/ui/toast';
import { notifyDesktop } from '@/hooks/use-desktop-notifications';
import { useLatest } from '@/hooks/use-latest';
import { RealtimeConnection, type NewMailHandler } from '@/realtime/connection';
import { subscribe } from '@/realtime/emitter';
import { describeMail } from '@/realtime/new-mail';
import { syncProgressStore } from '@/realtime/sync-progress';

/**
 * The live connection, mounted once (in Layout): a socket.io connection to `/api/v1/realtime` with the session's
 * access token, reconnected when the token changes and closed on sign-out. Events invalidate the queries they
 * touched (`@/api/query-keys`), a reconnect catches up, and new mail in an inbox shows a toast and, with the user's
 * permission, a desktop notification.
 */
export function useRealtime(): void {
  const { status, token } = useSession();
  const queryClient = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const connection = useRef<RealtimeConnection | null>(null);
  const announce = useRef<NewMailHandler>(() => undefined);

  announce.current = (accountId, messages) => {
    const [first] = messages;
    const title = messages.length === 1 ? 'New mail' : `${messages.length} new messages`;
    const body = describeMail(first);
    toast.show({ title, body });
    const open = () =>
      void navigate(
        `/mail/${encodeURIComponent(accountId)}/${encodeURIComponent(first.folderId)}/${encodeURIComponent(first.id)}`,
      );
    notifyDesktop(title, { body, tag: first.id, onClick: open });
  };

  const signedIn = status === 'signedIn';
  useEffect(() => {
    if (!signedIn) return;
    const live = new RealtimeConnection(queryClient, (accountId, messages) =>
      announce.current(accountId, messages),
    );
    connection.current = live;
    live.start();
    return () => {
      live.stop();
      if (connection.current === live) connection.current = null;
      syncProgressStore.clear();
    };
  }, [signedIn, queryClient]);

  useEffect(() => {
    connection.current?.tokenChanged(token);
  }, [token]);
}

/**
 * Subscribes a component to one raw socket event (e.g. `command.status`) for as long as it is mounted. The handler
 * may change between renders without resubscribing. Payloads are the domain events as the server sent them.
 */
export function useRealtimeEvent<T = unknown>(event: string, handler: (payload: T) => void): void {
  const latest = useLatest(handler);
  useEffect(() => subscribe(event, (payload) => latest.current(payload as T)), [event]);
}
