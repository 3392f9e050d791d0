import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '@/api/client';
import type { paths } from '@/api/schema';
import { queryKeys } from '@/api/query-keys';
import { useSession } from '@/auth/session';

export type Account = Schemas['AccountDto'];

/** The signed-in user's linked mailboxes (`GET /accounts`); the socket's status events keep it current. */
export function useAccounts() {
  const { status } = useSession();
  return useQuery({
    queryKey: queryKeys.accounts(),
    queryFn: () => unwrap(api.GET('/api/v1/accounts')),
    enabled: status === 'signedIn',
  });
}

/** One account's folders (`GET /accounts/:id/folders`): the accounts page sums their counts. */
export function useAccountFolders(accountId: string, enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.folders(accountId),
    queryFn: () =>
      unwrap(api.GET('/api/v1/accounts/{accountId}/folders', { params: { path: { accountId } } })),
    enabled,
  });
}

/**
 * Starts linking (or re-authorizing) an Outlook mailbox: asks the API for Microsoft's sign-in URL and sends the
 * browser there. Microsoft sends it back through the API's callback to `/#/accounts?linked=<id>`.
 */
export function useConnectOutlook() {
  return useMutation({
    mutationFn: async () => {
      const { url } = await unwrap(api.GET('/api/v1/accounts/outlook/authorize'));
      window.location.assign(url);
    },
  });
}

export function useResync() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (accountId: string) =>
      unwrap(api.POST('/api/v1/accounts/{id}/resync', { params: { path: { id: accountId } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.accounts(), exact: true }),
  });
}

export function useUnlink() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (accountId: string) =>
      unwrap(api.DELETE('/api/v1/accounts/{id}', { params: { path: { id: accountId } } })),
    onSuccess: (_data, accountId) => {
      // its folders and messages are gone: drop them rather than refetch what would now answer 404
      queryClient.removeQueries({
        predicate: ({ queryKey }) => queryKey[0] === 'accounts' && queryKey[1] === accountId,
      });
      queryClient.setQueryData<Schemas['AccountListDto']>(queryKeys.accounts(), (list) =>
        list ? { items: list.items.filter((a) => a.id !== accountId) } : list,
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.accounts(), exact: true }),
  });
}

export type LinkImapBody = NonNullable<
  NonNullable<paths['/api/v1/accounts/imap']['post']['requestBody']>['content']['application/json']
>;

/**
 * Links an IMAP/SMTP mailbox (`POST /accounts/imap`): the API logs in to both servers first, so an answer takes a
 * few seconds. The passwords travel in this one request body and are kept nowhere in the browser.
 */
export function useLinkImap() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: LinkImapBody) => unwrap(api.POST('/api/v1/accounts/imap', { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.accounts(), exact: true }),
  });
}

/** the dashboard is on this machine (npm start, npm run dev:dashboard): a deployment never is (production.ts) */
const onLoopback = () => /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(window.location.hostname);

/**
 * The stack's demo IMAP mailbox (`GET /dev/demo-imap`), development only: the producer answers 404 outside
 * `NODE_ENV=development`, and a dashboard served from anything but a loopback address does not even ask. Asked
 * once per page load while the form is open; the answer (a development password) stays in memory only.
 */
export function useDemoImap(enabled: boolean) {
  const { status } = useSession();
  return useQuery({
    queryKey: ['dev', 'demo-imap'] as const,
    queryFn: () => unwrap(api.GET('/api/v1/dev/demo-imap')),
    enabled: enabled && status === 'signedIn' && onLoopback(),
    retry: false,
    staleTime: Infinity,
  });
}
