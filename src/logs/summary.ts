// Summaries: group events by profile/hat, class, operation and object; count them; find floods (the
// same event more than N times in one second, or a change_hat loop into a missing hat). Memory is bounded
// by the number of distinct groups, never by the number of events.
import { detach, hatOf, unionPermissions } from './label.js';
import type { AuditEvent, EventType, PermissionSet } from './model.js';
import { eventFilterParts, type EventFilterSpec } from './filter.js';
import { EVENT_BATCHES, READ_INTO_SINK, type EventSink, type EventStream } from './read.js';

export interface SummaryOptions {
  /** More than this many identical events within one second is a flood. Default 50. */
  readonly floodPerSecond?: number;
  /** This many change_hat attempts into a missing hat (same label and target) is a loop. Default 10. */
  readonly changeHatLoop?: number;
}

export interface EventGroup {
  readonly key: string;
  readonly type: EventType;
  readonly label?: string;
  readonly profile?: string;
  readonly hat?: string;
  readonly class?: string;
  readonly operation?: string;
  /** The object as one readable string: a path, `cap dac_override`, `inet stream tcp`, a peer, ... */
  readonly object: string;
  readonly count: number;
  /** Milliseconds since the epoch of the first and last event with a time. */
  readonly first?: number;
  readonly last?: number;
  readonly firstLine: number;
  readonly lastLine: number;
  readonly file?: string;
  readonly requested?: PermissionSet;
  readonly denied?: PermissionSet;
  /** True when every event had fsuid == ouid. */
  readonly owner?: boolean;
  /** Up to five distinct commands seen. */
  readonly comms: readonly string[];
  /** Most events of this group within one second. */
  readonly peakPerSecond: number;
}

export interface Flood {
  readonly kind: 'rate' | 'change-hat-loop';
  readonly group: string;
  readonly label?: string;
  readonly operation?: string;
  readonly object: string;
  readonly count: number;
  readonly peakPerSecond: number;
  /** When it started (ms since the epoch), when known. */
  readonly since?: number;
  readonly message: string;
}

export interface Summary {
  readonly events: number;
  readonly byType: Readonly<Partial<Record<EventType, number>>>;
  readonly first?: number;
  readonly last?: number;
  /** Largest count first. */
  readonly groups: readonly EventGroup[];
  /** Floods first by size; empty when there are none. */
  readonly floods: readonly Flood[];
}

export interface GroupState {
  /** Its place in its summarizer's groups (set again by Summarizer.fromState). */
  index: number;
  key: string;
  event: AuditEvent;
  /** event.type, .operation and .class again, on the group itself: add() compares them for every event. */
  type: EventType;
  operation: string | undefined;
  klass: string | undefined;
  object: string;
  count: number;
  /** ms since the epoch; -1 until an event with a time (numbers only: keeps the fields unboxed). */
  first: number;
  last: number;
  firstLine: number;
  lastLine: number;
  requested: PermissionSet | undefined;
  denied: PermissionSet | undefined;
  owner: boolean | undefined;
  comms: string[];
  second: number;
  inSecond: number;
  peak: number;
  peakSince: number;
  missingHat: boolean;
  // The per-second runs (maximal stretches of this group's events in one second) that are already
  // closed, kept so that two summaries of consecutive parts of a log merge exactly (mergeSummarizerStates):
  /** Second of the first run (-1: no timed event yet) and, once it closed, its length. */
  firstRunSecond: number;
  firstRunLength: number;
  closedRuns: number;
  /** Longest closed run (first to reach that length), and the same without the first run. */
  closedPeak: number;
  closedPeakSince: number;
  laterClosedPeak: number;
  laterClosedPeakSince: number;
}

/** The readable object of an event, used for grouping and display. */
export function objectOf(event: AuditEvent): string {
  const o = event.object;
  if (o.capability !== undefined) return `cap ${o.capability}`;
  if (o.dbus) {
    const d = o.dbus;
    const parts = [d.bus, d.path, d.interface !== undefined || d.member !== undefined ? `${d.interface ?? ''}.${d.member ?? ''}` : undefined];
    if (o.name !== undefined) parts.push(`name=${o.name}`);
    if (o.peer !== undefined) parts.push(`peer=${o.peer}`);
    return parts.filter((p) => p !== undefined).join(' ');
  }
  if (o.signal !== undefined) return `signal ${o.signal}${o.peer !== undefined ? ` peer=${o.peer}` : ''}`;
  if (o.network) {
    const n = o.network;
    const parts = [n.family, n.sockType, n.protocol !== undefined && n.protocol !== 'ip' ? n.protocol : undefined];
    if (n.addr !== undefined) parts.push(`addr=${n.addr}`);
    if (n.peerAddr !== undefined) parts.push(`peer_addr=${n.peerAddr}`);
    if (o.peer !== undefined) parts.push(`peer=${o.peer}`);
    return parts.filter((p) => p !== undefined).join(' ');
  }
  if (o.mount) {
    const m = o.mount;
    const parts = [m.srcname !== undefined ? `${m.srcname} ->` : undefined, o.name, m.fstype !== undefined ? `fstype=${m.fstype}` : undefined, m.flags !== undefined ? `(${m.flags})` : undefined];
    return parts.filter((p) => p !== undefined).join(' ');
  }
  if (o.name !== undefined && o.target !== undefined && o.name !== o.target) return `${o.name} -> ${o.target}`;
  if (o.name !== undefined) return o.name;
  if (o.target !== undefined) return `-> ${o.target}`;
  if (o.peer !== undefined) return `peer=${o.peer}`;
  return event.info ?? '';
}

/** A change_hat that asked for a hat the profile does not have (ENOENT, or a complain-mode null- hat). */
function isMissingHat(event: AuditEvent): boolean {
  if (event.operation !== 'change_hat') return false;
  if (event.error === 2) return true;
  if (event.info !== undefined && /not found|no hats/.test(event.info)) return true;
  const o = event.object;
  return (o.name !== undefined && o.name.includes('//null-')) || (o.target !== undefined && o.target.includes('//null-'));
}

function timeMs(event: AuditEvent): number {
  const t = event.time;
  return t ? t.epoch * 1000 + t.millis : -1;
}

const TYPE_INDEX: Record<EventType, number> = { DENIED: 0, ALLOWED: 1, AUDIT: 2, KILLED: 3, HINT: 4, STATUS: 5, ERROR: 6 };
const TYPES_IN_ORDER: readonly EventType[] = ['DENIED', 'ALLOWED', 'AUDIT', 'KILLED', 'HINT', 'STATUS', 'ERROR'];

/** What a group keeps of its first event: only detached strings (see detach()), nothing of the read buffers. */
function keptEvent(e: AuditEvent): AuditEvent {
  return {
    type: e.type,
    operation: e.operation === undefined ? undefined : detach(e.operation),
    class: e.class === undefined ? undefined : detach(e.class),
    classInferred: e.classInferred,
    label: e.label,
    object: {},
    source: e.source,
    line: e.line,
    file: e.file === undefined ? undefined : detach(e.file),
  };
}

/** The group's current run ends (a later event falls in another second). */
function closeRun(g: GroupState): void {
  const length = g.inSecond;
  const since = g.second * 1000;
  if (g.closedRuns === 0) g.firstRunLength = length;
  else if (length > g.laterClosedPeak) { g.laterClosedPeak = length; g.laterClosedPeakSince = since; }
  if (length > g.closedPeak) { g.closedPeak = length; g.closedPeakSince = since; }
  g.closedRuns++;
}

/** Accumulates a summary one event at a time (follow mode reads floods as they happen). */
export class Summarizer {
  /** label → object → the groups that differ only in operation, type or class (a handful). */
  private readonly index = new Map<string, Map<string, GroupState[]>>();
  private readonly groups: GroupState[] = [];
  private readonly byType = new Float64Array(7);
  /** The index of the group the last add() counted its event in (for addRepeat()). */
  lastGroup = -1;
  private events = 0;
  private first = -1;
  private last = -1;
  private readonly floodPerSecond: number;
  private readonly changeHatLoop: number;

  constructor(options: SummaryOptions = {}) {
    this.floodPerSecond = options.floodPerSecond ?? 50;
    this.changeHatLoop = options.changeHatLoop ?? 10;
  }

  /** Add an event; returns a Flood the first time its group becomes one. */
  add(event: AuditEvent): Flood | undefined {
    const ms = timeMs(event);
    const g = this.groupOf(event, ms);
    this.lastGroup = g.index;
    return this.count(g, event, ms, event.line, event.owner);
  }

  /**
   * Add an event that is `template` (an event add() counted in group `group`: its lastGroup) on another
   * line: at time `ms`, with its own owner flag. The group key and everything else come from the template.
   */
  addRepeat(group: number, template: AuditEvent, ms: number, line: number, owner: boolean | undefined): Flood | undefined {
    return this.count(this.groups[group]!, template, ms, line, owner);
  }

  /** Count an event (`event`'s type, permissions and comm; the time, line and owner given) in group g. */
  private count(g: GroupState, event: AuditEvent, ms: number, line: number, owner: boolean | undefined): Flood | undefined {
    this.events++;
    this.byType[TYPE_INDEX[event.type]]++;
    if (ms >= 0) {
      if (this.first < 0 || ms < this.first) this.first = ms;
      if (ms > this.last) this.last = ms;
    }
    const wasFlood = this.isFlood(g);
    g.count++;
    g.lastLine = line;
    if (ms >= 0) {
      if (g.first < 0 || ms < g.first) g.first = ms;
      if (ms > g.last) g.last = ms;
      const second = Math.floor(ms / 1000);
      if (second !== g.second) {
        if (g.second >= 0) closeRun(g);
        else g.firstRunSecond = second;
        g.second = second;
        g.inSecond = 0;
      }
      if (++g.inSecond > g.peak) {
        g.peak = g.inSecond;
        g.peakSince = second * 1000;
      }
    }
    const requested = event.requested;
    if (requested !== undefined && requested !== g.requested) g.requested = unionPermissions(g.requested, requested);
    const denied = event.denied;
    if (denied !== undefined && denied !== g.denied) g.denied = unionPermissions(g.denied, denied);
    if (g.owner !== undefined && owner !== true) g.owner = owner === undefined ? undefined : false;
    const comm = event.comm;
    if (comm !== undefined && g.comms.length < 5 && !g.comms.includes(comm)) g.comms.push(detach(comm));
    return !wasFlood && this.isFlood(g) ? this.floodOf(g) : undefined;
  }

  /** The event's group, made when it is the first of its kind. */
  private groupOf(event: AuditEvent, ms: number): GroupState {
    const object = objectOf(event);
    const labelText = event.label === undefined ? '' : event.label.text;
    const candidates = this.candidates(labelText, object);
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      // operation, type and class are interned by the scanner: these compare by identity in practice
      if (c.operation === event.operation && c.type === event.type && c.klass === event.class) return c;
    }
    const key = `${event.type}\0${labelText}\0${event.class ?? ''}\0${event.operation ?? ''}\0${object}`;
    const kept = keptEvent(event);
    const g: GroupState = {
      index: this.groups.length, key: detach(key), event: kept, type: kept.type, operation: kept.operation, klass: kept.class, object: detach(object), count: 0, first: ms, last: ms,
      firstLine: event.line, lastLine: event.line, requested: undefined, denied: undefined, owner: event.owner,
      comms: [], second: -1, inSecond: 0, peak: 0, peakSince: -1, missingHat: isMissingHat(event),
      firstRunSecond: -1, firstRunLength: 0, closedRuns: 0, closedPeak: 0, closedPeakSince: -1, laterClosedPeak: 0, laterClosedPeakSince: -1,
    };
    candidates.push(g);
    this.groups.push(g);
    return g;
  }

  /** Everything this summarizer holds, as plain data (structured-clone safe, for another thread). */
  state(): SummarizerState {
    return { groups: this.groups, byType: [...this.byType], events: this.events, first: this.first, last: this.last };
  }

  /** A summarizer that continues from a state (from state() or mergeSummarizerStates()). */
  static fromState(state: SummarizerState, options: SummaryOptions = {}): Summarizer {
    const summarizer = new Summarizer(options);
    state.byType.forEach((n, i) => { summarizer.byType[i] = n; });
    summarizer.events = state.events;
    summarizer.first = state.first;
    summarizer.last = state.last;
    for (const g of state.groups) {
      g.index = summarizer.groups.length;
      const labelText = g.event.label === undefined ? '' : g.event.label.text;
      summarizer.candidates(labelText, g.object).push(g);
      summarizer.groups.push(g);
    }
    return summarizer;
  }

  /** The groups of one label and object (an empty list the first time; the object is kept detached). */
  private candidates(labelText: string, object: string): GroupState[] {
    let byObject = this.index.get(labelText);
    if (byObject === undefined) this.index.set(labelText, (byObject = new Map()));
    let candidates = byObject.get(object);
    if (candidates === undefined) byObject.set(detach(object), (candidates = []));
    return candidates;
  }

  private isFlood(g: GroupState): boolean {
    return g.peak > this.floodPerSecond || (g.missingHat && g.count >= this.changeHatLoop);
  }

  private floodOf(g: GroupState): Flood {
    const label = g.event.label?.text;
    const loop = g.missingHat && g.count >= this.changeHatLoop;
    const where = label ?? '(no profile)';
    const message = loop
      ? `change_hat loop: ${where} tried to enter missing hat ${g.object || '?'} ${g.count} times (peak ${g.peak}/s)`
      : `flood: ${g.event.type} ${g.event.operation ?? ''} ${g.object} by ${where}: ${g.peak} events in one second (${g.count} in all)`;
    return {
      kind: loop ? 'change-hat-loop' : 'rate',
      group: g.key,
      ...(label !== undefined ? { label } : {}),
      ...(g.event.operation !== undefined ? { operation: g.event.operation } : {}),
      object: g.object,
      count: g.count,
      peakPerSecond: g.peak,
      ...(g.peakSince >= 0 ? { since: g.peakSince } : {}),
      message: message.replace(/ {2,}/g, ' '),
    };
  }

  result(): Summary {
    const groups: EventGroup[] = [];
    const floods: Flood[] = [];
    for (const g of this.groups) {
      const e = g.event;
      const hat = e.label ? hatOf(e.label) : undefined;
      groups.push({
        key: g.key,
        type: e.type,
        ...(e.label ? { label: e.label.text, profile: e.label.path[0] ?? e.label.text } : {}),
        ...(hat !== undefined ? { hat } : {}),
        ...(e.class !== undefined ? { class: e.class } : {}),
        ...(e.operation !== undefined ? { operation: e.operation } : {}),
        object: g.object,
        count: g.count,
        ...(g.first >= 0 ? { first: g.first, last: g.last } : {}),
        firstLine: g.firstLine,
        lastLine: g.lastLine,
        ...(e.file !== undefined ? { file: e.file } : {}),
        ...(g.requested ? { requested: g.requested } : {}),
        ...(g.denied ? { denied: g.denied } : {}),
        ...(g.owner !== undefined ? { owner: g.owner } : {}),
        comms: g.comms,
        peakPerSecond: g.peak,
      });
      if (this.isFlood(g)) floods.push(this.floodOf(g));
    }
    const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    groups.sort((a, b) => b.count - a.count || byKey(a.key, b.key));
    floods.sort((a, b) => b.count - a.count || byKey(a.group, b.group));
    const byType: Partial<Record<EventType, number>> = {};
    TYPES_IN_ORDER.forEach((type, i) => {
      if (this.byType[i]) byType[type] = this.byType[i];
    });
    return {
      events: this.events,
      byType,
      ...(this.first >= 0 ? { first: this.first, last: this.last } : {}),
      groups,
      floods,
    };
  }
}

/** A Summarizer's content as plain data; see Summarizer.state(). */
export interface SummarizerState {
  readonly groups: readonly GroupState[];
  readonly byType: readonly number[];
  readonly events: number;
  readonly first: number;
  readonly last: number;
}

const minTime = (a: number, b: number): number => (a < 0 ? b : b < 0 ? a : Math.min(a, b));

/** The fields of a group that describe its per-second runs. */
const RUN_FIELDS = [
  'second', 'inSecond', 'peak', 'peakSince', 'firstRunSecond', 'firstRunLength', 'closedRuns',
  'closedPeak', 'closedPeakSince', 'laterClosedPeak', 'laterClosedPeakSince',
] as const satisfies readonly (keyof GroupState)[];

/** The per-second runs of `earlier` followed by those of `later`, into `into` (a copy of earlier). */
function mergeRuns(into: GroupState, later: GroupState): void {
  if (later.second < 0) return; // no timed event later: nothing changes
  if (into.second < 0) {
    // No timed event earlier: the runs are the later part's.
    for (const field of RUN_FIELDS) into[field] = later[field];
    return;
  }
  const laterFirstLength = later.closedRuns === 0 ? later.inSecond : later.firstRunLength;
  if (later.firstRunSecond === into.second) {
    // The earlier part's last run goes on into the later part: one run across the boundary.
    into.inSecond += laterFirstLength;
  } else {
    closeRun(into);
    into.second = later.firstRunSecond;
    into.inSecond = laterFirstLength;
  }
  if (later.closedRuns > 0) {
    closeRun(into); // the later part's first run (joined or not) is closed there
    if (later.closedRuns > 1) {
      // Its other closed runs: only their longest matters, and it comes after every run so far.
      if (later.laterClosedPeak > into.closedPeak) { into.closedPeak = later.laterClosedPeak; into.closedPeakSince = later.laterClosedPeakSince; }
      if (later.laterClosedPeak > into.laterClosedPeak) { into.laterClosedPeak = later.laterClosedPeak; into.laterClosedPeakSince = later.laterClosedPeakSince; }
      into.closedRuns += later.closedRuns - 1;
    }
    into.second = later.second;
    into.inSecond = later.inSecond;
  }
  // The peak as add() keeps it: the first run to reach the longest length, the open one included.
  if (into.inSecond > into.closedPeak) { into.peak = into.inSecond; into.peakSince = into.second * 1000; }
  else { into.peak = into.closedPeak; into.peakSince = into.closedPeakSince; }
}

/**
 * The state of a summarizer that read `earlier`'s input and then `later`'s, exactly as one summarizer
 * reading both in order would have it. `lineOffset` is added to the line numbers of `later` (the lines
 * before its part, when both parts come from one file; 0 for another file).
 */
export function mergeSummarizerStates(earlier: SummarizerState, later: SummarizerState, lineOffset = 0): SummarizerState {
  const groups: GroupState[] = earlier.groups.map((g) => ({ ...g, comms: [...g.comms] }));
  const byKey = new Map(groups.map((g) => [g.key, g]));
  for (const b of later.groups) {
    const a = byKey.get(b.key);
    if (a === undefined) {
      const copy = { ...b, comms: [...b.comms], firstLine: b.firstLine + lineOffset, lastLine: b.lastLine + lineOffset };
      groups.push(copy);
      byKey.set(copy.key, copy);
      continue;
    }
    a.count += b.count;
    a.first = minTime(a.first, b.first);
    a.last = Math.max(a.last, b.last);
    a.lastLine = b.lastLine + lineOffset;
    if (b.requested !== undefined) a.requested = unionPermissions(a.requested, b.requested);
    if (b.denied !== undefined) a.denied = unionPermissions(a.denied, b.denied);
    // add(): unknown once any event's is unknown, else false once any is false.
    if (a.owner !== undefined) a.owner = b.owner === undefined ? undefined : a.owner && b.owner;
    for (const comm of b.comms) if (a.comms.length < 5 && !a.comms.includes(comm)) a.comms.push(comm);
    mergeRuns(a, b);
  }
  return {
    groups,
    byType: earlier.byType.map((n, i) => n + (later.byType[i] ?? 0)),
    events: earlier.events + later.events,
    first: minTime(earlier.first, later.first),
    last: Math.max(earlier.last, later.last),
  };
}

/** SummarySink's tag for a kind of event the filter drops; group k is tag k + 1. */
const DROPPED = 0;

/**
 * The events a filter keeps, counted into a summarizer, as an EventReader's sink: the lines the memo
 * recognizes are counted without their events being built. A template's tag is its group, or that the
 * filter drops its kind; the time bound is checked on every line.
 */
export class SummarySink implements EventSink {
  /** A kept event was DENIED or KILLED. */
  denied = false;
  private readonly keepsKind: (event: AuditEvent) => boolean;
  private readonly since: number | undefined;

  constructor(readonly summarizer: Summarizer, filter: EventFilterSpec = {}) {
    const parts = eventFilterParts(filter);
    this.keepsKind = parts.keepsKind;
    this.since = parts.since;
  }

  event(event: AuditEvent): number {
    if (!this.keepsKind(event)) return DROPPED;
    // dropped for its time: that is this line's, not the template's; no tag
    if (this.since !== undefined && event.time !== undefined && timeMs(event) < this.since) return -1;
    if (event.type === 'DENIED' || event.type === 'KILLED') this.denied = true;
    this.summarizer.add(event);
    return this.summarizer.lastGroup + 1;
  }

  repeat(tag: number, template: AuditEvent, ms: number, line: number, owner: boolean | undefined): void {
    if (tag === DROPPED || (this.since !== undefined && ms < this.since)) return;
    if (template.type === 'DENIED' || template.type === 'KILLED') this.denied = true;
    this.summarizer.addRepeat(tag - 1, template, ms, line, owner);
  }
}

export function summarize(events: Iterable<AuditEvent>, options?: SummaryOptions): Summary;
export function summarize(events: AsyncIterable<AuditEvent>, options?: SummaryOptions): Promise<Summary>;
export function summarize(events: Iterable<AuditEvent> | AsyncIterable<AuditEvent>, options: SummaryOptions = {}): Summary | Promise<Summary> {
  const summarizer = new Summarizer(options);
  if (READ_INTO_SINK in events) {
    // a readEvents() stream: read it straight into the summary (repeated lines are not built as events)
    const read = (events as EventStream)[READ_INTO_SINK](new SummarySink(summarizer));
    return read.then(() => summarizer.result());
  }
  if (EVENT_BATCHES in events) {
    // a readEvents() stream: take whole batches, one await per chunk instead of per event
    const batches = (events as EventStream)[EVENT_BATCHES]();
    return (async () => {
      for await (const batch of batches) for (const event of batch) summarizer.add(event);
      return summarizer.result();
    })();
  }
  if (Symbol.asyncIterator in events) {
    return (async () => {
      for await (const event of events) summarizer.add(event);
      return summarizer.result();
    })();
  }
  for (const event of events) summarizer.add(event);
  return summarizer.result();
}
