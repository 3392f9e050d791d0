/** a request's urlencoded (or JSON) fields; a field sent twice or not as text counts as absent */
export type FormFields = Record<string, unknown>;

/** a non-empty text field, else undefined (AAD treats an empty parameter as a missing one) */
export function field(form: FormFields | undefined, name: string): string | undefined {
  const value = form?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
