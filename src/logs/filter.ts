// Which events a reader keeps: --since, --profile and --type as plain data, so that the same filter can
// be rebuilt in another thread (the parallel summary) and in the CLI.
import { labelGlob } from './glob.js';
import type { AuditEvent, EventType } from './model.js';

export interface EventFilterSpec {
  /** Milliseconds since the epoch: events before it are dropped (untimed events are kept). */
  readonly since?: number;
  /** A label glob (see glob.ts); events without a label are dropped when set. */
  readonly profile?: string;
  readonly types?: readonly EventType[];
}

export function eventFilter(spec: EventFilterSpec): (event: AuditEvent) => boolean {
  const { keepsKind, since } = eventFilterParts(spec);
  if (since === undefined) return keepsKind;
  return (event) => keepsKind(event) && (event.time === undefined || event.time.epoch * 1000 + event.time.millis >= since);
}

/**
 * The filter in two parts: what it asks of the kind of event (its type and label, which every repeat of
 * a line shares), and the time bound (ms since the epoch; untimed events pass it).
 */
export function eventFilterParts(spec: EventFilterSpec): { readonly keepsKind: (event: AuditEvent) => boolean; readonly since: number | undefined } {
  const types = spec.types ? new Set(spec.types) : undefined;
  const profile = spec.profile !== undefined ? labelGlob(spec.profile) : undefined;
  return {
    keepsKind: (event) => {
      if (types && !types.has(event.type)) return false;
      if (profile) {
        const label = event.label?.text;
        if (label === undefined || !profile(label)) return false;
      }
      return true;
    },
    since: spec.since,
  };
}

/**
 * The events a filter keeps, handed on one by one (to a summarizer, a JSON writer, a printer); notes
 * whether any kept event was DENIED or KILLED (the CLI's exit status). One loop for the CLI's readers and
 * the parallel summary's threads.
 */
export class KeptEvents {
  /** A kept event was DENIED or KILLED. */
  denied = false;

  constructor(
    private readonly accepts: (event: AuditEvent) => boolean,
    private readonly onEvent: (event: AuditEvent) => void,
  ) {}

  take(events: readonly AuditEvent[]): void {
    for (const event of events) {
      if (!this.accepts(event)) continue;
      if (event.type === 'DENIED' || event.type === 'KILLED') this.denied = true;
      this.onEvent(event);
    }
  }
}
