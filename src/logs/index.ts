// Public surface of logs: read AppArmor audit lines of every format into typed events, and summarize them.
export type {
  AuditEvent, DbusFields, EventObject, EventTime, EventType, Label, MountFields, NetworkTuple, ParsedRecord,
  LandlockFields, PermissionSet, RelatedRecord, SkipReason, SkippedLine, SourceFormat,
} from './model.js';
export { EVENT_TYPES } from './model.js';
export { parseLine } from './event.js';
export { hatOf, parseLabel, parsePermissions, unionPermissions } from './label.js';
export { formatAalogparse } from './aalogparse.js';
export { isoTimestamp, parseSince, parseSyslogTime } from './time.js';
export { addStats, isAscii, isMalformed, EVENT_BATCHES, EventReader, LineSplitter, newReadStats, READ_INTO_SINK, readEventBatches, readEvents } from './read.js';
export type { ByteSource, EventSink, EventStream, ReadOptions, ReadStats } from './read.js';
export { mergeSummarizerStates, objectOf, Summarizer, SummarySink, summarize } from './summary.js';
export type { EventGroup, Flood, Summary, SummarizerState, SummaryOptions } from './summary.js';
export { eventFilter, KeptEvents } from './filter.js';
export type { EventFilterSpec } from './filter.js';
export { labelGlob } from './glob.js';
export type { LabelMatcher } from './glob.js';
export { eventFromJson, eventToJson } from './json.js';
export type { EventJson } from './json.js';
export { MAX_LINE_LENGTH } from './scan.js';
export { blockersMeaning, LANDLOCK_BLOCKERS, LandlockAttribution, parseKmsgRecord } from './landlock.js';
export type { AttributionOptions, BlockerMeaning, KmsgRecord } from './landlock.js';
