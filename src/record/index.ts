// Public surface of record: run a program (or serve's workers) under an observer and turn what it does
// into the AuditEvents `hatter logs` produces, so `hatter learn` reads a recording like an audit log.
export { parseStraceLine, splitArguments, decodeEscapes, StraceAssembler } from './strace-line.js';
export type { StraceCall, StraceRecord, StraceResult, TraceDiagnostic, ParsedLine } from './strace-line.js';
export { EventTracker, interpreterOf } from './tracker.js';
export type { RecordHost, TrackerOptions } from './tracker.js';
export { joinPath, procSelf } from './paths.js';
export { eventKey, EventCounter, DEFAULT_COUNTER_OPTIONS } from './counter.js';
export type { CounterOptions } from './counter.js';
export { eventsFromTrace } from './trace.js';
export { findExecutable, findStrace, nodeRecordHost, stopTraced, straceArguments, StraceRecorder, TraceFollower, TRACED_SYSCALLS } from './strace.js';
export type { Recorder } from './strace.js';
export { RecordingSession } from './session.js';
export { policyTransitions, UNCONFINED_LABEL } from './transitions.js';
export type { ExecTransitions } from './transitions.js';
export type { RecordingOutput, SessionOptions } from './session.js';
