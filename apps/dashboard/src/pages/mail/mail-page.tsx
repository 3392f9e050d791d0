/** Placeholder: this page is being built. */
export function MailPage() {
  return (
    <main className="page">
      <h1>Mail</h1>
    </main>
  );
}
