import { esc, page } from './html.js';

/** What the login form shows; every string is escaped when rendered. */
export interface LoginForm {
  /** Posted back: the sign-in in progress and its CSRF token. */
  requestId: string;
  csrf: string;
  /** Where the form posts: `/login`, or `/device` on the device page. */
  action: string;
  heading: string;
  /** A line under the heading (which application, which device). */
  intro: string | null;
  localUsers: boolean;
  /** The one-time code is required (MFA asked for); otherwise it is optional. */
  requireOtp: boolean;
  username: string;
  error: string | null;
  /** "Sign in with <name>", when an upstream provider is configured. */
  upstreamName: string | null;
  /** Extra hidden fields (the device page's user code). */
  hidden?: Record<string, string>;
  /** Buttons other than "Sign in" (the device page: approve / deny). */
  submitLabel?: string;
  denyLabel?: string;
}

/** The server-rendered login page: no script, one form, escaped output. */
export function renderLoginForm(f: LoginForm): string {
  const hidden = { request: f.requestId, csrf: f.csrf, ...(f.hidden ?? {}) };
  const hiddenInputs = Object.entries(hidden)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  const parts = [`<h1>${esc(f.heading)}</h1>`];
  if (f.intro) parts.push(`<p>${esc(f.intro)}</p>`);
  if (f.error) parts.push(`<p class="error" role="alert">${esc(f.error)}</p>`);
  if (f.requireOtp) parts.push('<p class="info">This step needs your one-time code (MFA).</p>');
  parts.push(`<form method="post" action="${esc(f.action)}">${hiddenInputs}`);
  if (f.localUsers) {
    parts.push(
      `<label for="username">Username</label><input type="text" id="username" name="username" value="${esc(f.username)}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>`,
      '<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>',
      `<label for="otp">One-time code${f.requireOtp ? '' : ' (if you use one)'}</label><input type="text" id="otp" name="otp" inputmode="numeric" pattern="[0-9]{6,8}" autocomplete="one-time-code"${f.requireOtp ? ' required' : ''}>`,
      `<button type="submit" name="action" value="password">${esc(f.submitLabel ?? 'Sign in')}</button>`,
    );
  }
  if (f.denyLabel) parts.push(`<button type="submit" class="secondary" name="action" value="deny" formnovalidate>${esc(f.denyLabel)}</button>`);
  if (f.upstreamName) {
    if (f.localUsers) parts.push('<p class="or">or</p>');
    parts.push(`<button type="submit" class="secondary" name="action" value="upstream" formnovalidate>Sign in with ${esc(f.upstreamName)}</button>`);
  }
  parts.push('</form>');
  return page(f.heading, parts.join('\n'));
}
