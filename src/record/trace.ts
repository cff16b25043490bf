// A whole trace text → events, for tests and for reading a saved trace file at once.
import type { AuditEvent } from '../logs/index.js';
import { parseStraceLine, StraceAssembler, type TraceDiagnostic } from './strace-line.js';
import { EventTracker, type TrackerOptions } from './tracker.js';

export function eventsFromTrace(text: string, options: TrackerOptions): { events: AuditEvent[]; diagnostics: TraceDiagnostic[] } {
  const assembler = new StraceAssembler();
  const tracker = new EventTracker(options);
  const events: AuditEvent[] = [];
  const diagnostics: TraceDiagnostic[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const record = assembler.push(parseStraceLine(line, index + 1));
    if (record === undefined) return;
    if ('message' in record) diagnostics.push(record);
    else events.push(...tracker.push(record));
  });
  events.push(...tracker.finish());
  diagnostics.push(...tracker.diagnostics);
  return { events, diagnostics };
}
