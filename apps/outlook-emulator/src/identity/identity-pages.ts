/**
 * The identity platform's HTML: sign-in, device login, error, signed-out and form_post pages. Plain,
 * self-contained (inline style, no external assets), every dynamic value escaped.
 */

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f2f2f2;
font-family:"Segoe UI",system-ui,-apple-system,Helvetica,Arial,sans-serif;color:#1b1b1b}
main{background:#fff;width:100%;max-width:440px;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
.brand{font-size:.85rem;color:#5e5e5e;letter-spacing:.02em;margin:0 0 16px}
h1{font-size:1.5rem;font-weight:600;margin:0 0 12px}
p{line-height:1.45;margin:0 0 12px}
label{display:block;font-size:.9rem;margin:14px 0 4px}
input[type=text],input[type=password]{width:100%;padding:8px 2px;border:0;border-bottom:1px solid #666;font-size:1rem}
input:focus{outline:none;border-bottom-color:#0067b8}
.error{color:#e81123;margin:8px 0}
.actions{display:flex;flex-direction:row-reverse;gap:8px;margin-top:24px}
button{min-width:108px;padding:6px 12px;font-size:.95rem;border:1px solid #8a8a8a;background:#ccc;cursor:pointer}
button.primary{background:#0067b8;border-color:#0067b8;color:#fff}
ul.accounts{list-style:none;padding:0;margin:8px 0 0}
ul.accounts button{width:100%;text-align:left;background:#fff;border:0;border-top:1px solid #e6e6e6;padding:10px 4px}
ul.accounts button:hover{background:#f2f2f2}
small,.muted{color:#5e5e5e}
.scopes{margin:0 0 12px;padding-left:20px}
code{font-size:.85rem;word-break:break-all}
`;

function layout(title: string, body: string, script = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">Outlook emulator &middot; Microsoft identity platform</p>
${body}
</main>
${script ? `<script>${script}</script>` : ''}
</body>
</html>
`;
}

export interface MailboxChoice {
  address: string;
  displayName: string;
  hasPassword: boolean;
}

function accountList(mailboxes: readonly MailboxChoice[]): string {
  if (!mailboxes.length) {
    return '<p class="muted">This emulator has no mailboxes yet. Create one with <code>POST /_emulator/mailboxes</code>.</p>';
  }
  const items = mailboxes
    .map(
      (m) =>
        `<li><button type="button" data-login="${escapeHtml(m.address)}">${escapeHtml(m.displayName)}<br>` +
        `<small>${escapeHtml(m.address)}${m.hasPassword ? '' : ' &middot; no password'}</small></button></li>`,
    )
    .join('\n');
  const options = mailboxes.map((m) => `<option value="${escapeHtml(m.address)}"></option>`).join('');
  return `<p class="muted">Pick an account</p><ul class="accounts">\n${items}\n</ul><datalist id="mailboxes">${options}</datalist>`;
}

/** picking an account fills the login field (the datalist makes the page usable without script too) */
const PICK_ACCOUNT_SCRIPT = `document.querySelectorAll('[data-login]').forEach(function(b){b.addEventListener('click',function(){
var l=document.getElementById('login');l.value=b.getAttribute('data-login');document.getElementById('password').focus();});});`;

export interface SignInPageInput {
  /** where the form posts: the authorize URL with its query string */
  action: string;
  clientId: string;
  scopes: readonly string[];
  loginHint?: string;
  error?: string;
  mailboxes: readonly MailboxChoice[];
}

export function signInPage(input: SignInPageInput): string {
  const scopes = input.scopes.length
    ? `<p><strong>${escapeHtml(input.clientId)}</strong> is asking to:</p><ul class="scopes">${input.scopes
        .map((s) => `<li>${escapeHtml(s)}</li>`)
        .join('')}</ul>`
    : '';
  return layout(
    'Sign in to your account',
    `<h1>Sign in</h1>
${scopes}
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
<form method="post" action="${escapeHtml(input.action)}" autocomplete="off">
<label for="login">Email</label>
<input type="text" id="login" name="login" list="mailboxes" value="${escapeHtml(input.loginHint ?? '')}" autocomplete="username" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password">
<div class="actions">
<button type="submit" class="primary">Sign in</button>
<button type="submit" name="cancel" value="1">Cancel</button>
</div>
</form>
${accountList(input.mailboxes)}`,
    PICK_ACCOUNT_SCRIPT,
  );
}

export interface DeviceLoginPageInput {
  action: string;
  userCode?: string;
  login?: string;
  error?: string;
  mailboxes: readonly MailboxChoice[];
}

export function deviceLoginPage(input: DeviceLoginPageInput): string {
  return layout(
    'Enter code',
    `<h1>Enter code</h1>
<p>Enter the code displayed on your app or device, then sign in to allow access.</p>
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
<form method="post" action="${escapeHtml(input.action)}" autocomplete="off">
<label for="otc">Code</label>
<input type="text" id="otc" name="otc" value="${escapeHtml(input.userCode ?? '')}" autofocus>
<label for="login">Email</label>
<input type="text" id="login" name="login" list="mailboxes" value="${escapeHtml(input.login ?? '')}" autocomplete="username">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password">
<div class="actions">
<button type="submit" class="primary">Next</button>
<button type="submit" name="cancel" value="1">Cancel</button>
</div>
</form>
${accountList(input.mailboxes)}`,
    PICK_ACCOUNT_SCRIPT,
  );
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

/** AAD's error page: the AADSTS message and the ids, no redirect (the redirect URI can't be trusted) */
export function errorPage(description: string): string {
  const [message = '', ...details] = description.split('\r\n');
  return layout(
    'Sign in',
    `<h1>Sorry, but we're having trouble signing you in.</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>
${details.map((d) => `<p class="muted"><small>${escapeHtml(d)}</small></p>`).join('\n')}`,
  );
}

/** response_mode=form_post: a page that posts the response to the redirect URI at once */
export function formPostPage(redirectUri: string, fields: Readonly<Record<string, string>>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  return layout(
    'Working...',
    `<form method="post" action="${escapeHtml(redirectUri)}">
${inputs}
<noscript><p>Script is disabled. Click Continue to finish signing in.</p><button type="submit" class="primary">Continue</button></noscript>
</form>`,
    'document.forms[0].submit();',
  );
}
