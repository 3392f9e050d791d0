import type { Folder, MessageDetail } from '@/hooks/use-mail';
import { folderDepths } from './format';
import { Icon, type IconName } from './icons';

export interface ToolbarActions {
  reply: () => void;
  replyAll: () => void;
  forward: () => void;
  toggleRead: () => void;
  toggleFlag: () => void;
  /** absent when the account has no Archive folder, or the message is in it */
  archive?: () => void;
  moveTo: (folderId: string) => void;
  remove: () => void;
  /** set while the next delete is permanent and waits for a second press */
  confirmingDelete: boolean;
  /** true when the message is in Deleted Items (delete is then permanent) */
  permanentDelete: boolean;
}

/** The open message's actions, each with its keyboard shortcut in the tooltip. */
export function MailToolbar({
  message,
  folders,
  actions,
}: {
  message: MessageDetail;
  folders: Folder[];
  actions: ToolbarActions;
}) {
  const flagged = message.flagStatus === 'flagged';
  const deleteLabel = actions.confirmingDelete
    ? 'Confirm delete'
    : actions.permanentDelete
      ? 'Delete forever'
      : 'Delete';
  return (
    <div className="mail-toolbar" role="toolbar" aria-label="Message actions">
      <ToolButton icon="reply" label="Reply" keyHint="r" onClick={actions.reply} />
      <ToolButton icon="replyAll" label="Reply all" keyHint="a" onClick={actions.replyAll} compact />
      <ToolButton icon="forward" label="Forward" keyHint="f" onClick={actions.forward} compact />
      <span className="mail-toolbar-sep" aria-hidden="true" />
      <ToolButton
        icon="mail"
        label={message.isRead ? 'Mark unread' : 'Mark read'}
        keyHint="u"
        onClick={actions.toggleRead}
      />
      <ToolButton
        icon="flag"
        filled={flagged}
        label={flagged ? 'Unflag' : 'Flag'}
        keyHint="s"
        onClick={actions.toggleFlag}
        compact
      />
      {actions.archive && (
        <ToolButton icon="archive" label="Archive" keyHint="e" onClick={actions.archive} compact />
      )}
      <ToolButton
        icon="trash"
        label={deleteLabel}
        keyHint="#"
        onClick={actions.remove}
        className={actions.confirmingDelete ? 'danger mail-delete-confirm' : 'danger'}
      />
      <select
        className="mail-move"
        aria-label="Move to folder"
        title="Move to… (v)"
        value=""
        onChange={(e) => {
          if (e.target.value) actions.moveTo(e.target.value);
        }}
      >
        <MoveToOptions folders={folders} except={message.folderId} />
      </select>
    </div>
  );
}

/** A "Move to…" select's options: the account's folders in tree order, indented by depth, but `except`. */
export function MoveToOptions({ folders, except }: { folders: Folder[]; except: string | undefined }) {
  const depth = folderDepths(folders);
  return (
    <>
      <option value="">Move to…</option>
      {folders
        .filter((f) => f.id !== except)
        .map((f) => (
          <option key={f.id} value={f.id}>
            {'\u00a0\u00a0'.repeat(depth.get(f.id) ?? 0)}
            {f.displayName}
          </option>
        ))}
    </>
  );
}

/**
 * A toolbar button: icon and label, the label's shortcut in the tooltip. `compact` ones drop their visible label
 * when the reading pane is narrow (the name stays, as aria-label and tooltip).
 */
function ToolButton(props: {
  icon: IconName;
  label: string;
  keyHint: string;
  onClick: () => void;
  filled?: boolean;
  compact?: boolean;
  className?: string;
}) {
  return (
    <button
      type="button"
      className={props.className}
      onClick={props.onClick}
      aria-label={props.label}
      title={`${props.label} (${props.keyHint})`}
    >
      <Icon name={props.icon} filled={props.filled} />
      <span className={props.compact ? 'mail-tb-label mail-tb-compact' : 'mail-tb-label'}>{props.label}</span>
    </button>
  );
}
