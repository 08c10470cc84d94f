/** What the audit verbs write to and read the time from: the process's own unless a test says otherwise. */
import type { Writable } from 'node:stream';

export interface AuditCliIo {
  /** Standard output as a stream (exports stream to it). */
  stdout: Writable;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  nowMs: () => number;
}

export const processAuditIo: AuditCliIo = {
  stdout: process.stdout,
  err: (text) => process.stderr.write(text),
  env: process.env,
  nowMs: () => Date.now(),
};

export const count = (n: number) => n.toLocaleString('en-US');

/** Writes `text` to `out`, waiting when its buffer is full. */
export async function writeText(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
}
