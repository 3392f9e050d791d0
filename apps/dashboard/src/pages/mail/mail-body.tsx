import { Fragment, useEffect, useMemo, useRef, useState } from 'react';
import { useInlineImages } from '@/hooks/use-inline-images';
import type { MessageDetail } from '@/hooks/use-mail';
import { mailDocument, mailSanitizer, type MailSanitizer } from '@/lib/sanitize-html';
import { Icon } from './icons';

/** the reader frame's sandbox: links may open a new tab (outside the sandbox); nothing may run, nothing is same-origin */
export const MAIL_FRAME_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';
const MIN_HEIGHT = 120;

/**
 * An HTML body: sanitized (lib/sanitize-html), shown in a sandboxed frame with its own CSP. Remote images are removed
 * until the user allows them for this message ("Show images"), which sanitizes again with them let through. Inline
 * (`cid:`) images are part of the mail and show at once: their bytes are fetched from the API first
 * (hooks/use-inline-images) and placed as `data:` URLs.
 *
 * The frame grows to its content's height, so the reader scrolls as one page. The visible frame is opaque to the
 * dashboard (no `allow-same-origin`), so the height is read from a second, hidden copy of the same document that is
 * same-origin but equally script-less (its sandbox has no `allow-scripts`): nothing in either copy can run, and the
 * copy is never shown or focusable.
 */
export function HtmlBody({ message }: { message: MessageDetail & { body: { content: string } } }) {
  const [allowRemote, setAllowRemote] = useState(false);
  const inline = useInlineImages(message.id, message.body.content);
  // nothing is shown until the mail has been sanitized (the parser frame loads once, on the first HTML mail) and
  // its inline images were fetched (or failed)
  const parser = useMailSanitizer();
  const sanitize = inline.ready ? parser : undefined;
  const sanitized = useMemo(
    () =>
      sanitize
        ? sanitize(message.body.content, { allowRemoteImages: allowRemote, inlineImages: inline.images })
        : { html: '', blockedRemote: 0 },
    [sanitize, message.body.content, allowRemote, inline.images],
  );
  const srcDoc = useMemo(
    () => (sanitize ? mailDocument(sanitized.html, allowRemote) : ''),
    [sanitize, sanitized.html, allowRemote],
  );
  const visible = useRef<HTMLIFrameElement>(null);
  const probe = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(MIN_HEIGHT);

  const onProbeLoad = useRef<() => void>(() => undefined);

  useEffect(() => {
    const frame = visible.current;
    const copy = probe.current;
    if (!frame || !copy) return;
    let stopped = false;
    const measure = () => {
      const doc = copy.contentDocument;
      if (stopped || !doc?.documentElement) return;
      copy.style.width = `${frame.clientWidth}px`;
      setHeight(Math.max(MIN_HEIGHT, Math.ceil(doc.documentElement.scrollHeight) + 2));
    };
    onProbeLoad.current = () => {
      measure();
      // pictures (data: ones, or remote ones once allowed) change the height as they arrive
      for (const img of Array.from(copy.contentDocument?.images ?? [])) {
        if (!img.complete) img.addEventListener('load', measure, { once: true });
      }
    };
    // the copy may have loaded before this effect ran
    const loaded = copy.contentDocument;
    if (loaded?.URL === 'about:srcdoc' && loaded.readyState === 'complete') onProbeLoad.current();
    const resize = new ResizeObserver(measure);
    resize.observe(frame);
    return () => {
      stopped = true;
      onProbeLoad.current = () => undefined;
      resize.disconnect();
    };
  }, [srcDoc]);

  return (
    <>
      {sanitized.blockedRemote > 0 && !allowRemote && (
        <div className="mail-remote-banner" role="status">
          <Icon name="image" />
          <strong>Remote images blocked</strong>
          <span className="muted">
            {sanitized.blockedRemote} not loaded, so the sender cannot tell you opened this mail.
          </span>
          <button type="button" onClick={() => setAllowRemote(true)}>
            Show images
          </button>
        </div>
      )}
      {sanitize ? (
        <div className="mail-frame-wrap">
          <iframe
            ref={visible}
            key={allowRemote ? 'remote' : 'local'}
            className="mail-frame"
            title="Message body"
            sandbox={MAIL_FRAME_SANDBOX}
            referrerPolicy="no-referrer"
            srcDoc={srcDoc}
            style={{ height }}
          />
          <iframe
            ref={probe}
            key={allowRemote ? 'probe-remote' : 'probe-local'}
            className="mail-frame-probe"
            aria-hidden="true"
            tabIndex={-1}
            title="Message body (layout copy)"
            sandbox="allow-same-origin"
            srcDoc={srcDoc}
            onLoad={() => onProbeLoad.current()}
          />
        </div>
      ) : (
        <div className="mail-frame-wrap" aria-busy="true" />
      )}
    </>
  );
}

/** lib/sanitize-html's sanitizer, once its parser frame is ready (undefined until then, and if it cannot load) */
function useMailSanitizer(): MailSanitizer | undefined {
  const [sanitizer, setSanitizer] = useState<{ sanitize: MailSanitizer }>();
  useEffect(() => {
    let live = true;
    mailSanitizer().then(
      (sanitize) => live && setSanitizer({ sanitize }),
      () => undefined, // the body stays empty: an unsanitized mail is never shown
    );
    return () => {
      live = false;
    };
  }, []);
  return sanitizer?.sanitize;
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"')\]]+/g;

/** A plain-text body, as text: line breaks kept, web addresses made into links that open a new tab. */
export function TextBody({ text }: { text: string }) {
  const parts = useMemo(() => {
    const out: Array<{ text: string; href?: string }> = [];
    let last = 0;
    for (const match of text.matchAll(URL_IN_TEXT)) {
      const at = match.index;
      if (at > last) out.push({ text: text.slice(last, at) });
      out.push({ text: match[0], href: match[0] });
      last = at + match[0].length;
    }
    if (last < text.length) out.push({ text: text.slice(last) });
    return out;
  }, [text]);
  return (
    <div className="mail-text-body">
      {parts.map((p, i) =>
        p.href ? (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer">
            {p.text}
          </a>
        ) : (
          <Fragment key={i}>{p.text}</Fragment>
        ),
      )}
    </div>
  );
}
