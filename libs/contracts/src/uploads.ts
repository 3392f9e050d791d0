/**
 * Large attachments (issue 23, docs/attachments.md): the limits of upload sessions, the way files over
 * MAX_INLINE_ATTACHMENT_BYTES reach the API. No zod here, so the dashboard can import the values.
 */

/** The largest attachment: Graph's limit for an attachment added through an upload session (150 MB). */
export const MAX_ATTACHMENT_BYTES = 150 * 1024 * 1024;
/** The largest chunk one `PUT /uploads/{id}` may carry; the dashboard sends chunks of this size. */
export const UPLOAD_CHUNK_MAX_BYTES = 4 * 1024 * 1024;
/** The bytes (announced sizes) of one user's uploads that may wait for their command at once. */
export const MAX_PENDING_UPLOAD_BYTES = 512 * 1024 * 1024;
