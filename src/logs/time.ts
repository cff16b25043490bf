// Timestamps: syslog prefixes (for lines without an audit header) and the CLI's --since.

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/**
 * Milliseconds since the epoch for a syslog timestamp: RFC 3339 (`2026-02-11T17:49:21.719707+01:00`),
 * `2013-01-01 15:09:04+08:00`, or BSD `Jan  1 15:09:04[.frac][zone]` (no year: the current year, or the
 * previous one when that would put it in the future). Undefined when unreadable.
 */
export function parseSyslogTime(text: string, now: number = Date.now()): number | undefined {
  const iso = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(text);
  if (iso) return fromParts(+iso[1]!, +iso[2]! - 1, +iso[3]!, +iso[4]!, +iso[5]!, +iso[6]!, iso[7], iso[8]);
  const bsd = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(text);
  if (bsd) {
    const month = MONTHS[bsd[1]!];
    if (month === undefined) return undefined;
    const year = new Date(now).getFullYear();
    const at = (y: number) => fromParts(y, month, +bsd[2]!, +bsd[3]!, +bsd[4]!, +bsd[5]!, bsd[6], bsd[7]);
    const guess = at(year);
    return guess !== undefined && guess > now + 86_400_000 ? at(year - 1) : guess;
  }
  return undefined;
}

function fromParts(y: number, mo: number, d: number, h: number, mi: number, s: number, frac?: string, zone?: string): number | undefined {
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  let t: number;
  if (zone === undefined) {
    t = new Date(y, mo, d, h, mi, s, ms).getTime();
  } else {
    t = Date.UTC(y, mo, d, h, mi, s, ms);
    if (zone !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
  }
  return Number.isFinite(t) ? t : undefined;
}

/**
 * --since: `@1700000000` or plain epoch seconds, an ISO/RFC 3339 date or date-time, or a duration ago
 * (`90s`, `15m`, `2h`, `3d`, `1w`). Undefined when unreadable.
 */
export function parseSince(text: string, now: number = Date.now()): number | undefined {
  const trimmed = text.trim();
  if (/^@?\d+(\.\d+)?$/.test(trimmed)) return Math.floor(Number(trimmed.replace('@', '')) * 1000);
  const ago = /^(\d+)\s*(s|sec|m|min|h|d|w)$/.exec(trimmed);
  if (ago) {
    const unit = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800 }[ago[2] as 's'];
    return now - Number(ago[1]) * unit * 1000;
  }
  if (/^\d{4}-\d\d-\d\d$/.test(trimmed)) return fromParts(+trimmed.slice(0, 4), +trimmed.slice(5, 7) - 1, +trimmed.slice(8, 10), 0, 0, 0);
  return parseSyslogTime(trimmed, now);
}

/**
 * ISO 8601 for milliseconds since the epoch; `@SECONDS` (the form --since reads) for a time outside
 * JavaScript's date range, which an audit header can carry (`audit(99999999999999999999.000:1)`).
 */
export function isoTimestamp(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `@${Math.floor(ms / 1000)}` : date.toISOString();
}
