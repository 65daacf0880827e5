/**
 * Rise/fall hysteresis, as HAProxy's health checks count: a healthy source turns unhealthy after
 * `fall` bad samples in a row, and back after `rise` good ones. Until its first sample a source
 * is `unknown`, and the first sample decides at once: at start there is no earlier verdict to
 * protect, and waiting `fall` samples would let a node that cannot serve win its first election.
 */
export type Verdict = 'unknown' | 'up' | 'down';

export class Hysteresis {
  private state: Verdict = 'unknown';
  private streak = 0;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
  ) {
    if (!(rise >= 1 && fall >= 1)) throw new RangeError(`rise and fall must be at least 1 (got ${rise}/${fall})`);
  }

  get verdict(): Verdict {
    return this.state;
  }

  /** Records one sample; returns true when the verdict changed. */
  push(ok: boolean): boolean {
    const before = this.state;
    if (this.state === 'unknown') {
      this.state = ok ? 'up' : 'down';
      this.streak = 0;
    } else if ((this.state === 'up') === ok) {
      this.streak = 0;
    } else {
      this.streak++;
      if (this.streak >= (ok ? this.rise : this.fall)) {
        this.state = ok ? 'up' : 'down';
        this.streak = 0;
      }
    }
    return this.state !== before;
  }

  /** Back to unknown: no sample yet. */
  reset(): void {
    this.state = 'unknown';
    this.streak = 0;
  }
}
