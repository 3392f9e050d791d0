/** `/mail/:accountId/:folderId/:messageId`, each id URL-encoded (Graph ids may hold `/`, `+` and `=`). */
export function mailPath(accountId: string, folderId?: string, messageId?: string): string {
  let path = `/mail/${encodeURIComponent(accountId)}`;
  if (folderId) path += `/${encodeURIComponent(folderId)}`;
  if (folderId && messageId) path += `/${encodeURIComponent(messageId)}`;
  return path;
}
