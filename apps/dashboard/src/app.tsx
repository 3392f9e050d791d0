import { Navigate, Route, Routes } from 'react-router';
import { Layout } from '@/components/layout';
import { AccountsPage } from '@/pages/accounts/accounts-page';
import { SignInPage } from '@/pages/auth/sign-in-page';
import { MailPage } from '@/pages/mail/mail-page';
import { OpsPage } from '@/pages/ops/ops-page';

/**
 * Routes live after the `#` (HashRouter): the API's OAuth callback sends the browser to `/#/accounts?linked=…`,
 * and any deep link works on a plain static server.
 */
export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignInPage mode="signin" />} />
      <Route path="/signup" element={<SignInPage mode="signup" />} />
      <Route element={<Layout />}>
        <Route path="/accounts" element={<AccountsPage />} />
        <Route path="/mail/:accountId?/:folderId?/:messageId?" element={<MailPage />} />
        <Route path="/ops" element={<OpsPage />} />
        <Route path="*" element={<Navigate to="/mail" replace />} />
      </Route>
    </Routes>
  );
}
