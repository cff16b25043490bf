// Events to needs: what each profile, hat and child needed that its rules do not allow. Events the
// current policy already allows (decide()) are not needs; complain-mode learning labels (`//null-…`) are
// mapped back to the hat they stand for. Needs are deduplicated while events stream in, so memory grows
// with the number of distinct needs, never with the number of events.
import type { AuditEvent, EventSink, Label } from '../logs/index.js';
import { decide, normalizeAccess, type AccessRequest, type CompiledPolicy, type MediatedClass } from '../policy/eval/index.js';
import { canonicalizePath } from '../policy/aare/index.js';
import { printLabel } from '../policy/label/index.js';
import { MAX_SAMPLE_LINES, type Need, type NeedClass } from './model.js';

/** How a logged label maps onto the policy. */
export interface MappedLabel {
  /** The label in the policy's terms (`php-fpm//myblog` for `php-fpm//null-myblog`). */
  readonly profile: string;
  /** The label was a learning label. */
  readonly learning: boolean;
}

const HEX_COUNTER = /^[0-9a-f]+$/;

/**
 * A learning label back to what it stands for: `P//null-NAME` is the missing hat `P//NAME`; `P//null-/usr/bin/x`
 * (an exec that no rule allowed) and the old kernels' `P//null-2d` counters have no name of their own, so their
 * events count for `P`, as they would under `ix`. A missing change_profile target is named in full after
 * `null-`: php-fpm's `apparmor_hat = myblog` in a complain-mode `P` runs as `P//null-P//myblog` (seen on
 * Debian's 6.1 kernel), which stands for `P//myblog`; a learning profile has no real children, so a plain
 * element after a `null-` one can only be the rest of such a target.
 */
export function mapLearningLabel(label: Pick<Label, 'path' | 'namespace' | 'learning'>): MappedLabel {
  if (!label.learning) return { profile: printLabel(label), learning: false };
  let path: string[] = [];
  label.path.forEach((element, i) => {
    if (!element.startsWith('null-')) { path.push(element); return; }
    const name = element.slice(5);
    if (name === '' || name.startsWith('/') || HEX_COUNTER.test(name) || name === 'complain-profile') return;
    const next = label.path[i + 1];
    if (next !== undefined && !next.startsWith('null-')) path = [name]; // the full target `name//next…`
    else path.push(name);
  });
  const mapped = { path, ...(label.namespace !== undefined ? { namespace: label.namespace } : {}) };
  return { profile: printLabel(mapped), learning: true };
}

/** Kernel file letters to rule letters: create and delete are `w`; exec modifiers (i, P, U …) are not file bits. */
const FILE_LETTER: Readonly<Record<string, string>> = { r: 'r', w: 'w', a: 'a', c: 'w', d: 'w', l: 'l', k: 'k', m: 'm', x: 'x' };
const FILE_ORDER = 'rwalkmx';

function sortLetters(letters: Iterable<string>): string {
  const set = new Set(letters);
  if (set.has('w')) set.delete('a'); // w implies a
  return [...FILE_ORDER].filter((l) => set.has(l)).join('');
}

const LEARNABLE_TYPES = new Set(['DENIED', 'ALLOWED', 'KILLED']);
const NETWORK_CLASSES = new Set(['net', 'network', 'inet', 'inet6']);

/** One event, classified: the class, the profile it counts for, and what decide() must be asked. */
interface Candidate {
  readonly class: NeedClass;
  readonly profile: string;
  readonly logged: string | undefined;
  /** Key of the object (without the permissions): needs with the same object merge their permissions. */
  readonly objectKey: string;
  readonly permissions: readonly string[];
  /** The class-specific part of the need (its class and object), for the permissions gathered. */
  readonly build: (permissions: readonly string[]) => object;
  /** change_hat: the hat asked for. */
  readonly hat?: string;
  readonly request: (permissions: readonly string[]) => AccessRequest | undefined;
}

function permsOf(event: AuditEvent): readonly string[] {
  const set = event.type === 'ALLOWED' ? event.requested ?? event.denied : event.denied ?? event.requested;
  return set?.perms ?? [];
}

function genericFields(entries: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined && v !== '') out[k] = String(v);
  return out;
}

/** Classify one event; undefined for events that name nothing a rule could allow. */
function classify(event: AuditEvent, mapped: MappedLabel): Candidate | undefined {
  const op = event.operation ?? '';
  const cls = event.class ?? '';
  const object = event.object;
  const profile = mapped.profile;
  const logged = mapped.learning ? event.label!.text : undefined;
  const perms = permsOf(event);

  if (op === 'capable' || cls === 'cap' || cls === 'capability') {
    const capability = object.capability;
    if (!capability) return undefined;
    return {
      profile, logged, class: 'capability', objectKey: `cap\0${capability}`, permissions: [],
      build: () => ({ class: 'capability', capability }),
      request: () => ({ class: 'capability', name: capability }),
    };
  }
  if (op === 'change_hat') {
    const hat = object.name;
    if (!hat) return undefined;
    return {
      profile, logged, class: 'change_hat', objectKey: `hat\0${hat}`, permissions: [], hat,
      build: () => ({ class: 'change_hat', target: hat }),
      request: () => undefined, // decided by whether the hat exists (see NeedCollector)
    };
  }
  if (op === 'change_profile' || op === 'change_onexec') {
    const raw = object.target ?? object.name;
    if (!raw) return undefined;
    const target = mapLearningLabelText(raw);
    return {
      profile, logged, class: 'change_profile', objectKey: `cp\0${target}`, permissions: [],
      build: () => ({ class: 'change_profile', target }),
      request: () => ({ class: 'change_profile', target }),
    };
  }
  if (cls === 'signal' || op === 'signal') {
    // A learning peer stands for its hat, as the profile does (a rule cannot name `//null-` labels).
    const peer = object.peer !== undefined ? mapLearningLabelText(object.peer) : undefined;
    if (!peer) return undefined;
    const signal = object.signal;
    const access = normalizeAccess('signal', perms.length ? perms : ['send']);
    const fields = genericFields({ signal, peer });
    return {
      profile, logged, class: 'signal', objectKey: `sig\0${signal ?? ''}\0${peer}`, permissions: access,
      build: (p) => ({ class: 'signal', access: p, fields }),
      request: (p) => ({ class: 'signal', access: p, fields }),
    };
  }
  if (cls === 'ptrace' || op === 'ptrace') {
    const peer = object.peer;
    if (!peer) return undefined;
    const access = normalizeAccess('ptrace', perms.length ? perms : ['trace']);
    const fields = { peer };
    return {
      profile, logged, class: 'ptrace', objectKey: `pt\0${peer}`, permissions: access,
      build: (p) => ({ class: 'ptrace', access: p, fields }),
      request: (p) => ({ class: 'ptrace', access: p, fields }),
    };
  }
  if (cls === 'dbus' || op.startsWith('dbus_')) {
    const d = object.dbus ?? {};
    const access = normalizeAccess('dbus', perms.length ? perms : ['send']);
    const fields = genericFields({ bus: d.bus, path: d.path, interface: d.interface, member: d.member, name: object.name, peer: object.peer });
    return {
      profile, logged, class: 'dbus', objectKey: `dbus\0${JSON.stringify(fields)}`, permissions: access,
      build: (p) => ({ class: 'dbus', access: p, fields }),
      request: (p) => ({ class: 'dbus', access: p, fields }),
    };
  }
  if (cls === 'mount' || op === 'mount' || op === 'umount' || op === 'remount' || op === 'pivotroot') {
    const m = object.mount ?? {};
    const kind = op === 'umount' ? 'umount' : op === 'remount' ? 'remount' : 'mount';
    const fields = genericFields({ mountpoint: object.name, source: m.srcname, fstype: m.fstype, options: m.flags?.replace(/\s+/g, '') });
    return {
      profile, logged, class: 'mount', objectKey: `mnt\0${kind}\0${JSON.stringify(fields)}`, permissions: [kind],
      build: () => ({ class: 'mount', access: [kind], fields }),
      request: () => ({ class: kind, access: [kind], fields }),
    };
  }
  const net = object.network;
  if (NETWORK_CLASSES.has(cls) || cls === 'unix' || (net?.family !== undefined && !object.name?.startsWith('/'))) {
    if (!net?.family) return undefined;
    const unix = cls === 'unix';
    const klass: MediatedClass = unix ? 'unix' : 'network';
    const access = normalizeAccess(klass, perms.length ? perms : ['create']).filter((a) => a !== 'r' && a !== 'w');
    const fields = unix
      ? genericFields({ type: net.sockType, addr: net.addr, peer_addr: net.peerAddr })
      : genericFields({ family: net.family, type: net.sockType });
    return {
      profile, logged, class: unix ? 'unix' : 'network', objectKey: `${klass}\0${JSON.stringify(fields)}`, permissions: access,
      build: (p) => ({ class: unix ? 'unix' : 'network', access: p, fields }),
      request: (p) => ({ class: klass, access: p, fields }),
    };
  }
  const name = object.name;
  if (name === undefined || !name.startsWith('/')) return undefined;
  const path = name.includes('//') ? canonicalizePath(name, { directory: name.endsWith('/') }) : name;
  const owner = event.owner === true;
  if (op === 'exec') {
    const target = object.target !== undefined ? mapLearningLabelText(object.target) : undefined;
    return {
      profile, logged, class: 'exec', objectKey: `x\0${owner ? 'o' : ''}\0${path}`, permissions: ['x'],
      build: () => ({ class: 'exec', path, owner, ...(target !== undefined ? { target } : {}) }),
      request: () => ({ class: 'file', path, permissions: 'x', ...(owner ? { owner } : {}) }),
    };
  }
  const letters: string[] = [];
  for (const p of perms) {
    const letter = FILE_LETTER[p];
    if (letter !== undefined && letter !== 'x' && !letters.includes(letter)) letters.push(letter);
  }
  if (letters.length === 0) return undefined;
  return {
    profile, logged, class: 'file', objectKey: `f\0${owner ? 'o' : ''}\0${path}`, permissions: letters,
    build: (p) => ({ class: 'file', path, permissions: sortLetters(p), owner }),
    request: (p) => ({ class: 'file', path, permissions: sortLetters(p), ...(owner ? { owner } : {}) }),
  };
}

function mapLearningLabelText(text: string): string {
  if (!text.includes('null-')) return text;
  const path = text.split('//');
  return mapLearningLabel({ path, learning: path.some((p) => p.startsWith('null-')) }).profile;
}

interface MutableNeed {
  key: string;
  profile: string;
  loggedLabel?: string;
  missingProfile: boolean;
  denied: boolean;
  count: number;
  first?: number;
  last?: number;
  samples: string[];
  permissions: string[];
  build: Candidate['build'];
}

/** Why events were not needs: counted so the CLI can say what it skipped. */
export interface NeedStats {
  /** Events of a kind that asks for nothing (STATUS, AUDIT, HINT, ERROR …). */
  notLearnable: number;
  /** Events without a label or an object a rule could name. */
  unclassified: number;
  /** Events the policy already allows. */
  alreadyAllowed: number;
  /** Events that became (part of) a need. */
  needed: number;
}

export interface NeedOptions {
  /** The profile (top-level name) must exist in the policy; events of other profiles are reported, not learned. */
  readonly onUnknownProfile?: (profile: string, event: AuditEvent) => void;
  /** As the reader's sink: which kinds of events to take (type and label; every repeat of a template shares them). */
  readonly accepts?: (event: AuditEvent) => boolean;
  /** As the reader's sink: events before this time (ms since the epoch) are dropped. */
  readonly since?: number;
}

/** What one kind of event (a template the line memo repeats) contributes: a need's key and permissions, or why none. */
type Prepared =
  | {
    readonly kind: 'need'; readonly key: string; readonly candidate: Candidate; readonly wanted: readonly string[]; readonly missingProfile: boolean; readonly denied: boolean;
    /** The need this template counts for, once recorded (a repeat then costs no map lookup). */
    need?: MutableNeed;
  }
  | { readonly kind: 'skip'; readonly reason: 'notLearnable' | 'unclassified' | 'alreadyAllowed' };

const NOT_LEARNABLE: Prepared = { kind: 'skip', reason: 'notLearnable' };
const UNCLASSIFIED: Prepared = { kind: 'skip', reason: 'unclassified' };
const ALREADY_ALLOWED: Prepared = { kind: 'skip', reason: 'alreadyAllowed' };

/**
 * Collects needs from a stream of events: add() each event, or hand the collector to the log reader as
 * its sink (then a line the reader's memo recognizes costs a map lookup: its event is never built and
 * never classified again); needs() at any time. One decide() per distinct (profile, object, permissions).
 */
export class NeedCollector implements EventSink {
  readonly stats: NeedStats = { notLearnable: 0, unclassified: 0, alreadyAllowed: 0, needed: 0 };
  private readonly byKey = new Map<string, MutableNeed>();
  /** decide() answers by (profile, object, permissions): the permissions not allowed, or '' when all are. */
  private readonly missing = new Map<string, readonly string[]>();
  private readonly unknownProfiles = new Set<string>();
  /** Per label text: the mapped label (logs repeat a few labels millions of times). */
  private readonly labels = new Map<string, MappedLabel>();
  /** Sink templates (by tag): what the template, or a repeat with the other owner flag, prepares to (the reader hands the template back). */
  private readonly templates: { owner: Prepared | undefined; other: Prepared | undefined }[] = [];

  constructor(private readonly policy: CompiledPolicy, private readonly options: NeedOptions = {}) {}

  add(event: AuditEvent): void {
    this.record(this.prepare(event), event.time ? event.time.epoch * 1000 + event.time.millis : undefined, event.file, event.line);
  }

  /** EventSink: a new kind of event (the memo may repeat it under the returned tag). */
  event(event: AuditEvent): number {
    if (this.options.accepts && !this.options.accepts(event)) return -1;
    const prepared = this.prepare(event);
    const ms = event.time ? event.time.epoch * 1000 + event.time.millis : undefined;
    if (this.options.since === undefined || ms === undefined || ms >= this.options.since) this.record(prepared, ms, event.file, event.line);
    if (this.templates.length >= 1 << 20) return -1;
    this.templates.push({ owner: event.owner === true ? prepared : undefined, other: event.owner === true ? undefined : prepared });
    return this.templates.length - 1;
  }

  /** EventSink: a line that repeats a template; only its time, line and owner flag differ. */
  repeat(tag: number, template: AuditEvent, ms: number, line: number, owner: boolean | undefined): void {
    if (this.options.since !== undefined && ms < this.options.since) return;
    const entry = this.templates[tag]!;
    const own = owner === true;
    let prepared = own ? entry.owner : entry.other;
    if (prepared === undefined) {
      prepared = this.prepare({ ...template, ...(owner !== undefined ? { owner } : {}) });
      if (own) entry.owner = prepared; else entry.other = prepared;
    }
    this.record(prepared, ms, template.file, line);
  }

  private prepare(event: AuditEvent): Prepared {
    if (!LEARNABLE_TYPES.has(event.type)) return NOT_LEARNABLE;
    const label = event.label;
    if (!label || label.path.length === 0 || label.stack) return UNCLASSIFIED;
    let mapped = this.labels.get(label.text);
    if (!mapped) { mapped = mapLearningLabel(label); this.labels.set(label.text, mapped); }
    const candidate = classify(event, mapped);
    if (!candidate) return UNCLASSIFIED;
    const top = label.path[0]!;
    const topName = label.namespace !== undefined ? `:${label.namespace}:${top}` : top;
    if (!this.policy.profiles.has(topName) && !this.policy.profiles.has(top)) {
      if (!this.unknownProfiles.has(topName)) { this.unknownProfiles.add(topName); this.options.onUnknownProfile?.(topName, event); }
      return UNCLASSIFIED;
    }
    const missingProfile = !this.policy.profiles.has(candidate.profile);
    const wanted = this.notAllowed(candidate, missingProfile);
    if (wanted.length === 0) return ALREADY_ALLOWED;
    return { kind: 'need', key: `${candidate.profile}\0${candidate.objectKey}`, candidate, wanted, missingProfile, denied: event.type !== 'ALLOWED' };
  }

  private record(prepared: Prepared, ms: number | undefined, file: string | undefined, line: number): void {
    if (prepared.kind === 'skip') { this.stats[prepared.reason]++; return; }
    this.stats.needed++;
    const { candidate } = prepared;
    let need = prepared.need ?? this.byKey.get(prepared.key);
    if (!need) {
      need = {
        key: prepared.key, profile: candidate.profile, missingProfile: prepared.missingProfile, denied: false, count: 0, samples: [], permissions: [], build: candidate.build,
        ...(candidate.logged !== undefined ? { loggedLabel: candidate.logged } : {}),
      };
      this.byKey.set(prepared.key, need);
    }
    prepared.need = need;
    need.count++;
    if (prepared.denied) need.denied = true;
    for (const p of prepared.wanted) if (!need.permissions.includes(p)) need.permissions.push(p);
    if (ms !== undefined) {
      if (need.first === undefined || ms < need.first) need.first = ms;
      if (need.last === undefined || ms > need.last) need.last = ms;
    }
    if (need.samples.length < MAX_SAMPLE_LINES) need.samples.push(`${file ?? 'stdin'}:${line}`);
  }

  /** The permissions of the candidate the policy does not allow (all of them for a profile not in the policy). */
  private notAllowed(candidate: Candidate, missingProfile: boolean): readonly string[] {
    if (candidate.class === 'change_hat') {
      const parentLabel = parentForHat(this.policy, candidate.profile);
      return this.policy.profiles.has(`${parentLabel}//${candidate.hat}`) ? [] : ['change_hat'];
    }
    const perms = candidate.permissions.length ? candidate.permissions : [candidate.class];
    if (missingProfile) return perms;
    const cacheKey = `${candidate.profile}\0${candidate.objectKey}\0${perms.join(',')}`;
    const cached = this.missing.get(cacheKey);
    if (cached) return cached;
    const out: string[] = [];
    for (const p of perms) {
      const request = candidate.request(candidate.permissions.length ? [p] : []);
      let allowed = false;
      if (request) {
        try {
          const decision = decide(this.policy, candidate.profile, request);
          allowed = decision.bits.every((b) => b.outcome === 'allow');
        } catch {
          allowed = false; // a request decide() cannot express (an unknown access word): still a need
        }
      }
      if (!allowed) out.push(p);
    }
    this.missing.set(cacheKey, out);
    return out;
  }

  /** The needs so far, in first-seen order. */
  needs(): Need[] {
    const out: Need[] = [];
    for (const n of this.byKey.values()) {
      const built = n.build(n.permissions);
      out.push({
        ...built, key: n.key, profile: n.profile, denied: n.denied, count: n.count, samples: [...n.samples],
        ...(n.loggedLabel !== undefined ? { loggedLabel: n.loggedLabel } : {}),
        ...(n.missingProfile ? { missingProfile: true } : {}),
        ...(n.first !== undefined ? { first: n.first } : {}),
        ...(n.last !== undefined ? { last: n.last } : {}),
      } as unknown as Need);
    }
    return out;
  }

  /** Top-level profiles that events named and the policy does not define. */
  get unknown(): readonly string[] {
    return [...this.unknownProfiles];
  }
}

/** The profile a hat of `label` lives in: the label itself for a profile, its parent when it is a hat already. */
export function parentForHat(policy: CompiledPolicy, label: string): string {
  const profile = policy.profiles.get(label);
  if (profile?.kind === 'hat') return label.slice(0, label.lastIndexOf('//'));
  return label;
}

/** Needs of a whole event list (the library's pure entry point; the CLI streams into a NeedCollector). */
export function needsFromEvents(events: Iterable<AuditEvent>, policy: CompiledPolicy, options: NeedOptions = {}): Need[] {
  const collector = new NeedCollector(policy, options);
  for (const event of events) collector.add(event);
  return collector.needs();
}
