/** Placeholder: this page is being built. */
export function SignInPage({ mode }: { mode: 'signin' | 'signup' }) {
  return (
    <main className="page">
      <h1>{mode === 'signin' ? 'Sign in' : 'Create account'}</h1>
    </main>
  );
}
