import { useState } from 'react';
import { errorMessage } from '@/api/client';
import { useMessage, type MessageSummary } from '@/hooks/use-mail';
import { listDate, personName } from './format';
import { HtmlBody, TextBody } from './mail-body';

interface Props {
  accountId: string;
  /** messages of the conversation other than the open one, oldest first */
  messages: MessageSummary[];
  label: string;
}

/**
 * Other messages of the open message's conversation, collapsed to one line each (sender, preview, date); a click
 * opens one in place with its body (loaded then), another click folds it again.
 */
export function ConversationMessages({ accountId, messages, label }: Props) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  if (!messages.length) return null;
  const toggle = (id: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  return (
    <ol className="mail-thread" aria-label={label}>
      {messages.map((m) => {
        const expanded = open.has(m.id);
        return (
          <li
            key={m.id}
            className={`mail-thread-item${expanded ? ' is-open' : ''}${m.isRead ? '' : ' is-unread'}`}
          >
            <button
              type="button"
              className="mail-thread-line"
              aria-expanded={expanded}
              onClick={() => toggle(m.id)}
            >
              <span className="mail-thread-from">{personName(m.from)}</span>
              <span className="mail-thread-preview muted">{expanded ? '' : m.bodyPreview}</span>
              <time className="mail-thread-date muted" dateTime={m.receivedAt}>
                {listDate(m.receivedAt)}
              </time>
            </button>
            {expanded && <ThreadBody accountId={accountId} messageId={m.id} />}
          </li>
        );
      })}
    </ol>
  );
}

function ThreadBody({ accountId, messageId }: { accountId: string; messageId: string }) {
  const message = useMessage(accountId, messageId);
  if (message.isError) {
    return (
      <div className="mail-thread-body" role="alert">
        {errorMessage(message.error)}
      </div>
    );
  }
  if (!message.data) {
    return (
      <div className="mail-thread-body muted" role="status">
        Loading…
      </div>
    );
  }
  const m = message.data;
  return (
    <div className="mail-thread-body">
      {m.body?.contentType === 'html' ? (
        <HtmlBody key={m.id} message={{ ...m, body: m.body }} />
      ) : (
        <TextBody text={m.body?.content ?? m.bodyPreview} />
      )}
    </div>
  );
}
