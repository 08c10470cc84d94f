import { InvalidRequest } from '../oauth/errors.js';

/**
 * The OAuth endpoints take application/x-www-form-urlencoded bodies. They are
 * kept as URLSearchParams so that a parameter sent twice is seen and refused
 * (RFC 6749 §3.2) instead of one copy silently winning.
 */
export type FormParams = URLSearchParams;

export function parseForm(body: string): FormParams {
  return new URLSearchParams(body);
}

/** The one value of a parameter that may appear at most once; undefined when absent or empty. */
export function single(params: FormParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new InvalidRequest(`parameter '${name}' must not be repeated`);
  const v = all[0];
  return v === undefined || v === '' ? undefined : v;
}

export function required(params: FormParams, name: string): string {
  const v = single(params, name);
  if (v === undefined) throw new InvalidRequest(`parameter '${name}' is required`);
  return v;
}
