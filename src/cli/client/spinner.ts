import { formatClock } from './duration.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** One frame of the live status line: `⠋ waiting for approval: stage 1/2 (sre-leads) · 0:42`. */
export function statusFrame(text: string, elapsedS: number, tick: number): string {
  return `${FRAMES[tick % FRAMES.length]} ${text} · ${formatClock(elapsedS)}`;
}

export interface StatusLineIo {
  err: (text: string) => void;
  stderrTty: boolean;
  nowMs: () => number;
}

/**
 * A status that changes while something is awaited. On a terminal it is one
 * line redrawn in place with a spinner and a stopwatch; anywhere else (a log,
 * a pipe) each new status is printed once as a plain line, so logs do not
 * fill with a line per poll.
 */
export class StatusLine {
  private text = '';
  private tick = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedMs: number;

  constructor(
    private readonly io: StatusLineIo,
    private readonly redrawMs = 100,
  ) {
    this.startedMs = io.nowMs();
  }

  /** Shows `text` (the stopwatch keeps counting from construction). */
  set(text: string): void {
    if (text === this.text) return;
    this.text = text;
    if (!this.io.stderrTty) {
      this.io.err(`${text}\n`);
      return;
    }
    this.draw();
    if (!this.timer) {
      this.timer = setInterval(() => this.draw(), this.redrawMs);
      // The poll loop keeps the process alive; the redraw alone must not.
      this.timer.unref();
    }
  }

  /** Removes the live line so what follows starts on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.io.stderrTty && this.text) this.io.err('\r\x1b[2K');
    this.text = '';
  }

  private draw(): void {
    const elapsedS = (this.io.nowMs() - this.startedMs) / 1000;
    this.io.err(`\r\x1b[2K${statusFrame(this.text, elapsedS, this.tick++)}`);
  }
}
