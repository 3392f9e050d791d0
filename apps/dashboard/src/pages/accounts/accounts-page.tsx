/** Placeholder: this page is being built. */
export function AccountsPage() {
  return (
    <main className="page">
      <h1>Accounts</h1>
    </main>
  );
}
