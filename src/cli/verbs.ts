import type { Command } from 'commander';
import { register as serve } from './serve.js';
import { register as gateway } from './gateway.js';
import { register as demo } from './demo.js';
import { register as keys } from './keys.js';
import { register as policy } from './policy.js';
import { register as migrate } from './migrate.js';
import { register as login } from './login.js';
import { register as logout } from './logout.js';
import { register as me } from './me.js';
import { register as request } from './request.js';
import { register as requests } from './requests.js';
import { register as approve } from './approve.js';
import { register as grants } from './grants.js';
import { register as revoke } from './revoke.js';
import { register as release } from './release.js';
import { register as token } from './token.js';
import { register as exec } from './exec.js';
import { register as audit } from './audit.js';
import { register as usage } from './usage.js';
import { register as users } from './users.js';

/** Every verb lives in its own file and registers itself here, in help order. */
export function registerVerbs(program: Command): void {
  serve(program);
  gateway(program);
  demo(program);
  policy(program);
  migrate(program);
  keys(program);
  users(program);
  login(program);
  logout(program);
  me(program);
  request(program);
  requests(program);
  approve(program);
  grants(program);
  revoke(program);
  release(program);
  token(program);
  exec(program);
  audit(program);
  usage(program);
}
