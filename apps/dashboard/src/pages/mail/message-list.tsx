import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef } from 'react';
import type { MessageSummary } from '@/hooks/use-mail';
import { listDate, personName } from './format';
import { Icon } from './icons';

/** Fixed row height: the virtualizer then needs no measuring, and a jump far down lands exactly. */
export const ROW_HEIGHT = 76;
/** start fetching the next page this many rows before the end of what is loaded */
const PREFETCH_ROWS = 30;

interface Props {
  messages: MessageSummary[];
  selectedId: string | undefined;
  onOpen: (message: MessageSummary) => void;
  /** the arrow keys on the focused list: the next (1) or previous (-1) message */
  onStep: (delta: 1 | -1) => void;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => void;
  /** folder names by id, shown on rows of a search over every folder */
  folderNames?: Map<string, string>;
  /** the sender column names the recipient in Sent Items and Drafts */
  showRecipient: boolean;
  emptyText: string;
  loading: boolean;
  /** multi-select: whether a row is ticked, and a tick (Shift: a range from the last one ticked); absent, no boxes */
  isChecked?: (id: string) => boolean;
  onCheck?: (id: string, modifiers: { range: boolean }) => void;
}

/**
 * The message list: virtualized (only the rows in view, plus a few, are in the DOM, so ten thousand loaded
 * messages cost what twenty do) and paged by keyset cursor as the user nears the end.
 */
export function MessageList(props: Props) {
  const { messages, selectedId, hasNextPage, isFetchingNextPage, fetchNextPage } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const count = messages.length + (hasNextPage ? 1 : 0);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 6,
    getItemKey: (index) => messages[index]?.id ?? `loader-${index}`,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : 0;

  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= messages.length - PREFETCH_ROWS) fetchNextPage();
  }, [lastIndex, messages.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  // keep the open message in view when it changes by keyboard (j/k)
  const selectedIndex = selectedId ? messages.findIndex((m) => m.id === selectedId) : -1;
  useEffect(() => {
    if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
  }, [selectedIndex, virtualizer]);

  if (props.loading) {
    return (
      <div className="mail-list-empty" role="status">
        Loading messages…
      </div>
    );
  }
  if (!messages.length) {
    return (
      <div className="mail-list-empty" role="status">
        {props.emptyText}
      </div>
    );
  }

  return (
    <div
      ref={scroller}
      className="mail-list-scroller"
      role="listbox"
      aria-label="Messages"
      aria-busy={isFetchingNextPage}
      data-loaded-count={messages.length}
      tabIndex={0}
      aria-activedescendant={selectedIndex >= 0 ? rowId(selectedIndex) : undefined}
      aria-multiselectable={props.onCheck ? true : undefined}
      onKeyDown={(e) => {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          props.onStep(e.key === 'ArrowDown' ? 1 : -1);
        } else if (e.key === 'x' && props.onCheck && selectedId && e.target === e.currentTarget) {
          // x ticks the open message, as in Gmail (Shift+x: the range from the last one ticked)
          e.preventDefault();
          props.onCheck(selectedId, { range: e.shiftKey });
        }
      }}
    >
      <div className="mail-list-canvas" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => {
          const message = messages[item.index];
          return (
            <div
              key={item.key}
              className="mail-list-slot"
              style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
            >
              {message ? (
                <MessageRow
                  message={message}
                  index={item.index}
                  total={hasNextPage ? -1 : messages.length}
                  selected={message.id === selectedId}
                  onOpen={props.onOpen}
                  folderName={props.folderNames?.get(message.folderId)}
                  showRecipient={props.showRecipient}
                  checked={props.isChecked?.(message.id)}
                  onCheck={props.onCheck}
                />
              ) : (
                <div className="mail-row-loader" role="presentation">
                  Loading more…
                </div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}

/** a row's element id, for the list's aria-activedescendant (rows outside the window are not in the DOM) */
const rowId = (index: number) => `mail-row-${index}`;

interface RowProps {
  message: MessageSummary;
  index: number;
  total: number;
  selected: boolean;
  onOpen: (message: MessageSummary) => void;
  folderName: string | undefined;
  showRecipient: boolean;
  /** undefined: no checkbox (multi-select off) */
  checked?: boolean;
  onCheck?: (id: string, modifiers: { range: boolean }) => void;
}

const MessageRow = memo(function MessageRow({
  message,
  index,
  total,
  selected,
  onOpen,
  folderName,
  showRecipient,
  checked,
  onCheck,
}: RowProps) {
  const who = showRecipient
    ? `To: ${message.toRecipients.map((r) => personName(r)).join(', ') || '(no recipients)'}`
    : personName(message.from);
  const flagged = message.flagStatus === 'flagged';
  return (
    <div
      id={rowId(index)}
      role="option"
      aria-selected={selected}
      aria-posinset={index + 1}
      aria-setsize={total}
      data-message-id={message.id}
      data-checked={checked}
      className={`mail-row${message.isRead ? '' : ' mail-row-unread'}${selected ? ' mail-row-selected' : ''}${checked ? ' mail-row-checked' : ''}`}
      onClick={(e) => {
        // Ctrl/Cmd-click ticks the row, Shift-click ticks a range; a plain click opens it
        if (onCheck && (e.ctrlKey || e.metaKey || e.shiftKey)) {
          e.preventDefault();
          onCheck(message.id, { range: e.shiftKey });
        } else {
          onOpen(message);
        }
      }}
    >
      {onCheck && (
        <input
          type="checkbox"
          className="mail-check"
          checked={Boolean(checked)}
          aria-label={`Select ${message.subject || '(no subject)'}`}
          onClick={(e) => {
            e.stopPropagation();
            onCheck(message.id, { range: e.shiftKey });
          }}
          onKeyDown={(e) => {
            // Space toggles as a checkbox does; Shift+Space ticks the range
            if (e.key === ' ') {
              e.preventDefault();
              e.stopPropagation();
              onCheck(message.id, { range: e.shiftKey });
            }
          }}
          onChange={() => undefined}
        />
      )}
      {message.isRead ? (
        <span className="mail-row-dot" />
      ) : (
        <span className="mail-row-dot" role="img" aria-label="Unread" />
      )}
      <div className="mail-row-main">
        <div className="mail-row-top">
          <span className="mail-row-from">{who}</span>
          <span className="mail-row-marks">
            {message.importance === 'high' && (
              <span
                className="mail-mark mail-mark-important"
                title="High importance"
                aria-label="High importance"
              >
                !
              </span>
            )}
            {message.hasAttachments && (
              <span className="mail-mark" title="Has attachments" role="img" aria-label="Has attachments">
                <Icon name="paperclip" size={13} />
              </span>
            )}
            {flagged && (
              <span className="mail-mark mail-mark-flag" title="Flagged" role="img" aria-label="Flagged">
                <Icon name="flag" filled size={13} />
              </span>
            )}
          </span>
          <time className="mail-row-date" dateTime={message.receivedAt}>
            {listDate(message.receivedAt)}
          </time>
        </div>
        <div className="mail-row-subject">
          {folderName && <span className="mail-row-folder">{folderName}</span>}
          {message.subject || '(no subject)'}
        </div>
        <div className="mail-row-preview">{message.bodyPreview}</div>
      </div>
    </div>
  );
});
