/**
 * Signatures per account (issue 23): sanitized HTML kept on the account, put under the cursor of new mail, replies
 * and forwards from it. No zod here, so the dashboard can import the limit without bundling it.
 */

/** A signature's sanitized HTML is at most this many characters (the database holds the same CHECK). */
export const MAX_SIGNATURE_HTML_CHARS = 10_000;
