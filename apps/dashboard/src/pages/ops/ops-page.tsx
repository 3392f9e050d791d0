/** Placeholder: this page is being built. */
export function OpsPage() {
  return (
    <main className="page">
      <h1>Ops</h1>
    </main>
  );
}
