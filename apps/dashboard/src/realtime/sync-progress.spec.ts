import { describe, expect, it } from '@jest/globals';
import { withStoredProgress, type SyncProgressState } from './sync-progress';

const stored = {
  foldersTotal: 4,
  foldersDone: 1,
  messagesSynced: 120,
  messagesTotal: 500,
  at: '2026-12-05T20:00:02Z',
};
const live = (at: string, messagesSynced: number): SyncProgressState => ({
  foldersTotal: 4,
  foldersDone: 2,
  messagesSynced,
  messagesTotal: 500,
  completed: false,
  at,
});

describe('sync progress after a reload', () => {
  it("shows GET /accounts' report until the socket brings a newer one", () => {
    expect(withStoredProgress(undefined, stored)).toEqual({ ...stored, completed: false });
    expect(withStoredProgress(live('2026-12-05T20:00:01Z', 80), stored)).toEqual({
      ...stored,
      completed: false,
    });
    expect(withStoredProgress(live('2026-12-05T20:00:03Z', 200), stored)?.messagesSynced).toBe(200);
  });

  it('is the live figures alone when the API has none (not syncing, or no report yet)', () => {
    expect(withStoredProgress(live('2026-12-05T20:00:03Z', 200), null)?.messagesSynced).toBe(200);
    expect(withStoredProgress(undefined, null)).toBeUndefined();
  });
});
