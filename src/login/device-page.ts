import { esc, page } from './html.js';

/** What the device verification page shows; every string is escaped. */
export interface DeviceForm {
  requestId: string;
  csrf: string;
  userCode: string;
  /** The principal of the browser's session; null shows the credential fields. */
  signedInAs: string | null;
  localUsers: boolean;
  upstreamName: string | null;
  error: string | null;
  username: string;
}

/** RFC 8628 §3.3: the person enters (or checks) the code shown on the device, signs in, and approves or denies. */
export function renderDeviceForm(f: DeviceForm): string {
  const parts = ['<h1>Connect a device</h1>', '<p>Enter the code your device shows, then approve it to sign the device in as you.</p>'];
  if (f.error) parts.push(`<p class="error" role="alert">${esc(f.error)}</p>`);
  parts.push(
    `<form method="post" action="/device"><input type="hidden" name="request" value="${esc(f.requestId)}"><input type="hidden" name="csrf" value="${esc(f.csrf)}">`,
    `<label for="user_code">Code</label><input type="text" id="user_code" name="user_code" value="${esc(f.userCode)}" autocomplete="off" autocapitalize="characters" spellcheck="false" required${f.userCode ? '' : ' autofocus'}>`,
  );
  if (f.signedInAs) {
    parts.push(`<p>Signed in as <strong>${esc(f.signedInAs)}</strong>.</p>`, '<button type="submit" name="action" value="approve">Approve</button>');
  } else if (f.localUsers) {
    parts.push(
      `<label for="username">Username</label><input type="text" id="username" name="username" value="${esc(f.username)}" autocomplete="username" autocapitalize="none" spellcheck="false" required${f.userCode ? ' autofocus' : ''}>`,
      '<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>',
      '<label for="otp">One-time code (if you use one)</label><input type="text" id="otp" name="otp" inputmode="numeric" pattern="[0-9]{6,8}" autocomplete="one-time-code">',
      '<button type="submit" name="action" value="approve">Sign in and approve</button>',
    );
  }
  if (!f.signedInAs && f.upstreamName) {
    parts.push(`<button type="submit" class="secondary" name="action" value="upstream" formnovalidate>Sign in with ${esc(f.upstreamName)} and approve</button>`);
  }
  parts.push('<button type="submit" class="secondary" name="action" value="deny" formnovalidate>Deny</button></form>');
  return page('Connect a device', parts.join('\n'));
}
