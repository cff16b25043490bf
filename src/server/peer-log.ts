// Access-log lines a worker or the front sends to the supervisor. The peer may be run by an attacker:
// a line must be one JSON object that names the peer's own label (so a site cannot write entries in
// another site's name), and a peer gets at most LINES_PER_SECOND lines a second on average (a flood
// is dropped and counted instead of filling the disk and the supervisor's time).

/** Far above what a worker logs serving requests (one line each), far below a disk-filling flood. */
const LINES_PER_SECOND = 20_000;
const BURST = 40_000;

export class LogLineGate {
  private tokens = BURST;
  private refilledAt = Date.now();
  /** Lines refused for the rate. */
  dropped = 0;

  constructor(private readonly label: string) {}

  /**
   * The lines to write; or a reason when one is not the peer's own JSON entry (the message is then
   * invalid as a whole and none of it is written).
   */
  admit(lines: readonly string[]): { readonly lines: readonly string[] } | { readonly forged: string } {
    for (const line of lines) {
      let entry: unknown;
      try { entry = JSON.parse(line); } catch { return { forged: 'a log line is not JSON' }; }
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return { forged: 'a log line is not a JSON object' };
      const label = (entry as { label?: unknown }).label;
      if (label !== this.label) return { forged: `a log line names label ${JSON.stringify(String(label).slice(0, 200))}, not ${this.label}` };
    }
    const now = Date.now();
    this.tokens = Math.min(BURST, this.tokens + ((now - this.refilledAt) / 1000) * LINES_PER_SECOND);
    this.refilledAt = now;
    const allowed = Math.max(0, Math.min(lines.length, Math.floor(this.tokens)));
    this.tokens -= allowed;
    this.dropped += lines.length - allowed;
    return { lines: allowed === lines.length ? lines : lines.slice(0, allowed) };
  }
}
