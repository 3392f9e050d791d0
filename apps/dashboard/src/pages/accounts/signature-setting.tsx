import { Suspense, lazy, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, errorMessage, unwrap } from '@/api/client';
import { queryKeys } from '@/api/query-keys';
import { useToast } from '@/components/ui/toast';
import type { Account } from '@/hooks/use-accounts';
import { MAX_SIGNATURE_HTML_CHARS } from '@email-core/contracts/signatures';
import { cleanHtml } from '../mail/compose-body';
import './signature-setting.css';

// the compose window's editor, loaded when a signature is edited (its own chunk)
const RichEditor = lazy(() => import('../mail/rich-editor').then((m) => ({ default: m.RichEditor })));

/**
 * An account's signature on its card: shown as it is stored, edited with the compose window's editor, saved with
 * `PUT /accounts/:id/signature` (sanitized and size-checked by the server; an empty one removes it). New mail,
 * replies and forwards from the account start with it under the cursor.
 */
export function SignatureSetting({ account }: { account: Account }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [html, setHtml] = useState('');
  const save = useMutation({
    mutationFn: (value: string) =>
      unwrap(
        api.PUT('/api/v1/accounts/{id}/signature', {
          params: { path: { id: account.id } },
          body: { html: value },
        }),
      ),
    onSuccess: (saved) => {
      setEditing(false);
      toast.show({
        title: saved.signatureHtml ? 'Signature saved' : 'Signature removed',
        body: account.email,
      });
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.accounts(), exact: true }),
  });
  const stored = account.signatureHtml ?? null;

  if (!editing) {
    return (
      <div className="accounts-signature">
        <span className="accounts-signature-label">Signature</span>
        {stored ? (
          // stored HTML is sanitized by the server; made inert again before it is shown
          <div
            className="accounts-signature-preview"
            dangerouslySetInnerHTML={{ __html: cleanHtml(stored) }}
          />
        ) : (
          <span className="muted">None</span>
        )}
        <button
          type="button"
          onClick={() => {
            setHtml(stored ?? '');
            setEditing(true);
          }}
          aria-label={`Edit the signature of ${account.email}`}
        >
          {stored ? 'Edit' : 'Add'}
        </button>
      </div>
    );
  }
  return (
    <div
      className="accounts-signature accounts-signature-editing"
      role="group"
      aria-label={`Signature of ${account.email}`}
    >
      <Suspense fallback={<p className="muted">Loading the editor…</p>}>
        <RichEditor
          initialHtml={stored ? cleanHtml(stored) : ''}
          onChange={setHtml}
          autoFocus
          label="Signature"
        />
      </Suspense>
      {html.length > MAX_SIGNATURE_HTML_CHARS && (
        <p className="accounts-error" role="alert">
          The signature is too long ({html.length} characters of HTML, at most {MAX_SIGNATURE_HTML_CHARS}).
        </p>
      )}
      {save.isError && (
        <p className="accounts-error" role="alert">
          {errorMessage(save.error)}
        </p>
      )}
      <div className="accounts-actions">
        <button
          type="button"
          className="primary"
          onClick={() => save.mutate(html)}
          disabled={save.isPending || html.length > MAX_SIGNATURE_HTML_CHARS}
        >
          {save.isPending ? 'Saving…' : 'Save signature'}
        </button>
        <button type="button" onClick={() => setEditing(false)} disabled={save.isPending}>
          Cancel
        </button>
      </div>
    </div>
  );
}
