import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';
import { queryKeys } from '@/api/query-keys';
import { useSession } from '@/auth/session';

/** The signed-in user as `GET /me` describes them (including whether they may open the Ops page). */
export function useMe() {
  const { status } = useSession();
  return useQuery({
    queryKey: queryKeys.me(),
    queryFn: () => unwrap(api.GET('/api/v1/me')),
    enabled: status === 'signedIn',
    staleTime: 60_000,
  });
}
