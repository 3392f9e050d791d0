import { useEffect, useRef, useState } from 'react';
import type { BatchProgress, BatchRequest, BatchWording, MessageSelection } from '@/hooks/use-command-batch';
import { useCommandBatch } from '@/hooks/use-command-batch';
import { useListSelection, type ListSelectionState } from '@/hooks/use-list-selection';
import { filterParams, type Folder, type MessageFilters } from '@/hooks/use-mail';
import { batchStatusLine } from '@/lib/selection';
import { MoveToOptions } from './mail-toolbar';
import './selection.css';

const n = (count: number) => count.toLocaleString();

interface Props {
  selection: ListSelectionState;
  /** the rows loaded, and whether the list has more */
  loaded: number;
  hasMore: boolean;
  /** how many messages the list's filter selects, when known (a folder's count without filters) */
  total: number | null;
  /** where "select all" reaches: "Inbox", or "these results" */
  scopeName: string;
  /** the list's filter, as the list query sends it */
  filter: MessageFilters;
  folders: Folder[];
  /** the folder shown (none while searching every folder) */
  folderId: string | undefined;
  progress: BatchProgress | null;
  submit: (
    request: BatchRequest,
    wording: BatchWording,
    optimistic: { ids: string[]; remove: boolean },
  ) => void;
  dismiss: () => void;
}

/**
 * Multi-select's bar above the list: how many are ticked ("3 selected", "All 1,200 in Inbox selected"), "Select
 * all N in this folder" (a server-side selection by the list's filter), the actions on the selection (one batch
 * each: `POST /commands/batches`) and one status line for the whole batch.
 */
export function SelectionBar(props: Props) {
  const { selection: sel, progress, folders } = props;
  const [confirmDelete, setConfirmDelete] = useState(false);
  const allBox = useRef<HTMLInputElement>(null);
  const byWellKnown = (name: string) => folders.find((f) => f.wellKnownName === name);
  const archive = byWellKnown('archive');
  const deleted = byWellKnown('deleteditems');
  const permanentDelete = !deleted || props.folderId === deleted.id;

  const s = sel.selection;
  const count = s.all ? (props.total === null ? null : props.total - s.excluded.size) : s.ids.size;
  const allLoaded = props.loaded > 0 && sel.loadedChecked.length === props.loaded;
  useEffect(() => {
    if (allBox.current) allBox.current.indeterminate = sel.active && !allLoaded && !s.all;
  }, [sel.active, allLoaded, s.all]);
  useEffect(() => {
    if (!confirmDelete) return;
    const t = setTimeout(() => setConfirmDelete(false), 4000);
    return () => clearTimeout(t);
  }, [confirmDelete]);
  useEffect(() => setConfirmDelete(false), [s]);

  const countText = s.all
    ? count === null
      ? `All messages matching in ${props.scopeName} selected${s.excluded.size ? ` (${n(s.excluded.size)} left out)` : ''}`
      : `All ${n(count)} in ${props.scopeName} selected`
    : `${n(s.ids.size)} selected`;
  // "select all" is worth offering once every loaded row is ticked and there is more than what is loaded
  const offerAll = !s.all && allLoaded && (props.hasMore || (props.total ?? 0) > props.loaded);

  const target = (): { request: Record<string, unknown>; ids: string[] } => {
    if (!s.all) return { request: { messageIds: [...s.ids] }, ids: [...s.ids] };
    const selection: MessageSelection = { ...props.filter, excludeIds: [...s.excluded] };
    return { request: { selection }, ids: sel.loadedChecked };
  };
  const run = (action: Record<string, unknown>, wording: BatchWording, leaves: boolean) => {
    const { request, ids } = target();
    props.submit({ ...action, ...request } as BatchRequest, wording, { ids, remove: leaves });
    if (leaves) sel.clear();
  };
  const moveTo = (
    folder: Folder,
    wording: BatchWording = { running: 'Moving', done: `Moved to ${folder.displayName}`, failed: 'move' },
  ) => run({ action: 'move', destinationFolderId: folder.id }, wording, true);

  return (
    <div className="mail-selection" aria-label="Selection" role="region">
      <div className="mail-selection-row">
        <input
          ref={allBox}
          type="checkbox"
          className="mail-check"
          aria-label="Select all loaded messages"
          checked={s.all || allLoaded}
          disabled={props.loaded === 0}
          onChange={(e) => (s.all ? sel.clear() : sel.checkAllLoaded(e.target.checked))}
        />
        {sel.active ? (
          <>
            <span className="mail-selection-count" data-testid="selection-count">
              {countText}
            </span>
            {offerAll && (
              <button type="button" className="link-button" onClick={sel.checkAllInList}>
                {props.total !== null
                  ? `Select all ${n(props.total)} in ${props.scopeName}`
                  : `Select all in ${props.scopeName}`}
              </button>
            )}
            <button type="button" className="link-button" onClick={sel.clear}>
              Clear selection
            </button>
          </>
        ) : (
          <span className="mail-selection-hint">Select</span>
        )}
      </div>
      {sel.active && (
        <div className="mail-selection-actions" role="toolbar" aria-label="Actions on the selection">
          <button
            type="button"
            onClick={() =>
              run(
                { action: 'markRead', isRead: true },
                { running: 'Marking read', done: 'Marked read', failed: 'mark read' },
                false,
              )
            }
          >
            Mark read
          </button>
          <button
            type="button"
            onClick={() =>
              run(
                { action: 'markRead', isRead: false },
                { running: 'Marking unread', done: 'Marked unread', failed: 'mark unread' },
                false,
              )
            }
          >
            Mark unread
          </button>
          <button
            type="button"
            onClick={() =>
              run(
                { action: 'flag', flagStatus: 'flagged' },
                { running: 'Flagging', done: 'Flagged', failed: 'flag' },
                false,
              )
            }
          >
            Flag
          </button>
          <button
            type="button"
            onClick={() =>
              run(
                { action: 'flag', flagStatus: 'notFlagged' },
                { running: 'Unflagging', done: 'Unflagged', failed: 'unflag' },
                false,
              )
            }
          >
            Unflag
          </button>
          {archive && props.folderId !== archive.id && (
            <button
              type="button"
              onClick={() => moveTo(archive, { running: 'Archiving', done: 'Archived', failed: 'archive' })}
            >
              Archive
            </button>
          )}
          <button
            type="button"
            className={confirmDelete ? 'danger mail-delete-confirm' : 'danger'}
            onClick={() => {
              if (!permanentDelete && deleted) return moveTo(deleted);
              if (!confirmDelete) return setConfirmDelete(true);
              setConfirmDelete(false);
              run(
                { action: 'delete' },
                { running: 'Deleting', done: 'Deleted permanently', failed: 'delete' },
                true,
              );
            }}
          >
            {confirmDelete ? 'Confirm delete' : permanentDelete ? 'Delete forever' : 'Delete'}
          </button>
          <select
            className="mail-move"
            aria-label="Move selected to folder"
            value=""
            onChange={(e) => {
              const folder = folders.find((f) => f.id === e.target.value);
              if (folder) moveTo(folder);
            }}
          >
            <MoveToOptions folders={folders} except={props.folderId} />
          </select>
        </div>
      )}
      {progress && <BatchStatusLine progress={progress} dismiss={props.dismiss} />}
    </div>
  );
}

/** One status for the whole batch, however many commands it took. */
function BatchStatusLine({ progress, dismiss }: { progress: BatchProgress; dismiss: () => void }) {
  const b = progress.batch;
  const { text, tone, final } = batchStatusLine(progress.wording, b, progress.error);
  return (
    <div
      className={`mail-batch-status${tone ? ` mail-batch-${tone}` : ''}`}
      role="status"
      aria-live="polite"
      data-batch-status={progress.error ? 'refused' : (b?.status ?? 'submitting')}
    >
      <span>{text}</span>
      {final && (
        <button type="button" className="link-button" onClick={dismiss} aria-label="Dismiss status">
          ×
        </button>
      )}
    </div>
  );
}

/**
 * The mail view's multi-select in one call: the selection over the loaded rows (cleared when the folder or the
 * filters change), the batch it submits, and the props of SelectionBar and of the list's checkboxes. `enabled`
 * false (the conversation view) shows neither.
 */
export function useMultiSelect(opts: {
  accountId: string;
  rows: ReadonlyArray<{ id: string }>;
  hasMore: boolean;
  /** the list's filter, as the list query sends it */
  filter: MessageFilters;
  folder: Folder | undefined;
  folders: Folder[];
  searching: boolean;
  enabled: boolean;
}) {
  const filter = filterParams(opts.filter);
  const resetKey = JSON.stringify([opts.accountId, filter, opts.enabled]);
  const selection = useListSelection(opts.rows, resetKey);
  const batch = useCommandBatch(opts.accountId);
  const { folder } = opts;
  const onlyFolder = Object.keys(filter).every((k) => k === 'folderId');
  const onlyUnread = Object.keys(filter).every((k) => k === 'folderId' || k === 'unread');
  const total =
    !folder || opts.searching
      ? null
      : onlyFolder
        ? folder.totalCount
        : onlyUnread
          ? folder.unreadCount
          : null;
  const bar: Props = {
    selection,
    loaded: opts.rows.length,
    hasMore: opts.hasMore,
    total,
    scopeName: opts.searching ? 'these results' : (folder?.displayName ?? 'this folder'),
    filter,
    folders: opts.folders,
    folderId: opts.searching ? undefined : folder?.id,
    progress: batch.progress,
    submit: (request, wording, optimistic) => void batch.submit(request, wording, optimistic),
    dismiss: batch.dismiss,
  };
  return {
    enabled: opts.enabled,
    bar,
    list: opts.enabled ? { isChecked: selection.isChecked, onCheck: selection.check } : {},
  };
}
