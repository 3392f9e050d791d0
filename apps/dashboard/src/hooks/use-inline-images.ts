import { useMemo } from 'react';
import { useQueries } from '@tanstack/react-query';
import { api } from '@/api/client';
import { queryKeys } from '@/api/query-keys';
import { cidReferences, contentIdKey } from '@/lib/content-id';
import { useAttachments, type Attachment } from './use-mail';

/** the raster types the reader's frame may show (as the sanitizer's `data:` rule) */
const RASTER = /^image\/(?:png|gif|jpe?g|webp|bmp)$/i;
/** an inline image larger than this is left out (its bytes would sit twice in the reader's frames as base64) */
export const MAX_INLINE_IMAGE_BYTES = 10 * 1024 * 1024;
/** at most this many inline images of one mail are fetched */
export const MAX_INLINE_IMAGES = 50;

export interface InlineImages {
  /** `data:` URLs by Content-ID key (lib/sanitize-html's `contentIdKey`) */
  images: ReadonlyMap<string, string>;
  /** every image the body refers to was fetched, or failed (the body is shown then, with what there is) */
  ready: boolean;
}

const mediaType = (contentType: string) => contentType.split(';')[0]?.trim().toLowerCase() ?? '';

/**
 * The `cid:` images of a mail's HTML body. Their bytes come from the API's attachment route (same origin, with
 * the bearer token through the API client: the token never goes into a URL) and are handed to the sanitizer as
 * `data:` URLs, the one kind of image source the reader's sandboxed, opaque-origin frame loads. Nothing is asked
 * for when the body names no `cid:`.
 */
export function useInlineImages(messageId: string, html: string): InlineImages {
  const refs = useMemo(() => new Set(cidReferences(html)), [html]);
  const list = useAttachments(messageId, refs.size > 0);
  const wanted = useMemo(
    () =>
      (list.data?.items ?? [])
        .filter(
          (a): a is Attachment & { contentId: string } =>
            a.contentId !== null &&
            refs.has(contentIdKey(a.contentId)) &&
            RASTER.test(mediaType(a.contentType)) &&
            a.size <= MAX_INLINE_IMAGE_BYTES,
        )
        .slice(0, MAX_INLINE_IMAGES),
    [list.data, refs],
  );
  const results = useQueries({
    queries: wanted.map((a) => ({
      queryKey: [...queryKeys.attachments(messageId), 'inline', a.id] as const,
      queryFn: () => inlineImage(messageId, a),
      staleTime: Infinity,
      retry: 1,
    })),
  });
  const settled = results.every((r) => !r.isPending);
  // a new Map only when an image arrives or fails, not on every render
  const signature = results.map((r) => `${r.status}:${r.dataUpdatedAt}`).join();
  const images = useMemo(() => {
    const map = new Map<string, string>();
    wanted.forEach((a, i) => {
      const data = results[i]?.data;
      if (data) map.set(contentIdKey(a.contentId), data);
    });
    return map;
    // `results` is a new array on every render: `signature` says when what it holds changed
  }, [wanted, signature]);
  const ready = refs.size === 0 || list.isError || (list.isSuccess && settled);
  return { images, ready };
}

/** One inline image's bytes as a `data:` URL of its raster type (checked again on the bytes' own type). */
async function inlineImage(messageId: string, attachment: Attachment): Promise<string | null> {
  const { data, response } = await api.GET(
    '/api/v1/messages/{messageId}/attachments/{attachmentId}/content',
    { params: { path: { messageId, attachmentId: attachment.id } }, parseAs: 'blob' },
  );
  if (!response.ok || !data) throw new Error(`inline image: HTTP ${response.status}`);
  const type = mediaType(data.type || attachment.contentType);
  if (!RASTER.test(type) || data.size > MAX_INLINE_IMAGE_BYTES) return null;
  return new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () =>
      typeof reader.result === 'string'
        ? resolve(reader.result)
        : reject(new Error('inline image: not read as a URL'));
    reader.onerror = () => reject(reader.error ?? new Error('inline image: unreadable'));
    reader.readAsDataURL(new Blob([data], { type }));
  });
}
