import { useState } from 'react';
import { api, errorMessage } from '@/api/client';
import { useToast } from '@/components/ui/toast';
import {
  useAttachments,
  type Attachment,
  type Folder,
  type MessageDetail,
  type MessageSummary,
} from '@/hooks/use-mail';
import { ConversationMessages } from './conversation-thread';
import { fileSize, hue, initials, longDate, personFull, recipientList } from './format';
import { HtmlBody, TextBody } from './mail-body';
import { MailToolbar, type ToolbarActions } from './mail-toolbar';
import { Icon } from './icons';

interface Props {
  message: MessageDetail | undefined;
  loading: boolean;
  error: unknown;
  folders: Folder[];
  actions: ToolbarActions;
  onBack: () => void;
  /** in the conversation view: the whole conversation of the open message, oldest first */
  conversation?: { accountId: string; messages: MessageSummary[] };
}

/** The reading pane: the open message's headers, actions, attachments and body. */
export function Reader({ message, loading, error, folders, actions, onBack, conversation }: Props) {
  if (error) {
    return (
      <section className="mail-reader" aria-label="Message">
        <ReaderBack onBack={onBack} />
        <div className="mail-reader-empty" role="alert">
          {errorMessage(error)}
        </div>
      </section>
    );
  }
  if (loading || !message) {
    return (
      <section className="mail-reader" aria-label="Message">
        <ReaderBack onBack={onBack} />
        <div className="mail-reader-empty" role="status">
          {loading ? 'Loading…' : 'Select a message to read it'}
        </div>
      </section>
    );
  }
  const body = message.body;
  return (
    <section className="mail-reader" aria-label="Message">
      <ReaderBack onBack={onBack} />
      <MailToolbar message={message} folders={folders} actions={actions} />
      <div className="mail-reader-scroll">
        {conversation && (
          <ConversationMessages
            accountId={conversation.accountId}
            label="Earlier in this conversation"
            messages={conversation.messages.filter((m) => m.receivedAt < message.receivedAt)}
          />
        )}
        <header className="mail-reader-head">
          <h2 className="mail-reader-subject">{message.subject || '(no subject)'}</h2>
          <div className="mail-reader-meta">
            <span
              className="mail-avatar"
              aria-hidden="true"
              style={{ background: `hsl(${hue(message.from?.address)} 55% 45%)` }}
            >
              {initials(message.from)}
            </span>
            <dl className="mail-reader-people">
              <div>
                <dt>From</dt>
                <dd>{message.from ? personFull(message.from) : '(no sender)'}</dd>
              </div>
              {message.toRecipients.length > 0 && (
                <div>
                  <dt>To</dt>
                  <dd>{recipientList(message.toRecipients)}</dd>
                </div>
              )}
              {message.ccRecipients.length > 0 && (
                <div>
                  <dt>Cc</dt>
                  <dd>{recipientList(message.ccRecipients)}</dd>
                </div>
              )}
              <div>
                <dt>Date</dt>
                <dd>
                  <time dateTime={message.receivedAt}>{longDate(message.receivedAt)}</time>
                </dd>
              </div>
            </dl>
          </div>
        </header>
        {message.hasAttachments && <Attachments messageId={message.id} />}
        <div className="mail-reader-body">
          {body?.contentType === 'html' ? (
            <HtmlBody key={message.id} message={{ ...message, body }} />
          ) : (
            <TextBody text={body?.content ?? message.bodyPreview} />
          )}
        </div>
        {conversation && (
          <ConversationMessages
            accountId={conversation.accountId}
            label="Later in this conversation"
            messages={conversation.messages.filter(
              (m) => m.id !== message.id && m.receivedAt >= message.receivedAt,
            )}
          />
        )}
      </div>
    </section>
  );
}

function ReaderBack({ onBack }: { onBack: () => void }) {
  return (
    <button type="button" className="mail-back" onClick={onBack}>
      <Icon name="back" /> Messages
    </button>
  );
}

function Attachments({ messageId }: { messageId: string }) {
  const list = useAttachments(messageId, true);
  if (list.isPending) {
    return (
      <div className="mail-attachments muted" role="status">
        Loading attachments…
      </div>
    );
  }
  if (list.isError) {
    return (
      <div className="mail-attachments" role="alert">
        Attachments could not be listed: {errorMessage(list.error)}
      </div>
    );
  }
  const files = list.data.items.filter((a) => !a.isInline);
  if (!files.length) return null;
  return (
    <section className="mail-attachments" aria-label="Attachments">
      <ul>
        {files.map((a) => (
          <li key={a.id}>
            <AttachmentItem messageId={messageId} attachment={a} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * The content route needs the bearer token, which must never go into a URL: the bytes are fetched with the token
 * (through the API client, so an expired token is refreshed) and handed to the browser as an object URL.
 */
function AttachmentItem({ messageId, attachment }: { messageId: string; attachment: Attachment }) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    try {
      const { data, response } = await api.GET(
        '/api/v1/messages/{messageId}/attachments/{attachmentId}/content',
        {
          params: { path: { messageId, attachmentId: attachment.id } },
          parseAs: 'blob',
        },
      );
      if (!response.ok || !data) throw new Error(`the download failed (HTTP ${response.status})`);
      const url = URL.createObjectURL(data);
      const link = document.createElement('a');
      link.href = url;
      link.download = attachment.name;
      link.rel = 'noopener';
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      toast.show({ tone: 'error', title: `Could not download ${attachment.name}`, body: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      className="mail-attachment"
      onClick={() => void download()}
      disabled={busy}
      aria-label={`Download ${attachment.name}`}
      title={`Download ${attachment.name}`}
    >
      <span className="mail-attachment-icon">
        <Icon name="file" size={18} />
      </span>
      <span className="mail-attachment-name">{attachment.name}</span>
      <span className="mail-attachment-size muted">{busy ? 'Downloading…' : fileSize(attachment.size)}</span>
    </button>
  );
}
