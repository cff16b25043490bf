// Shared test fixtures for learn: a policy from in-memory files, and audit lines parsed into events.
import { parseLine, type AuditEvent } from '../../src/logs/index.js';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/eval/index.js';
import { loadPolicy, type LoadedPolicy } from '../../src/policy/load/index.js';
import { memoryFileReader } from '../../src/policy/resolve/index.js';

export interface Fixture {
  readonly loaded: LoadedPolicy;
  readonly compiled: CompiledPolicy;
}

export function policyOf(files: Record<string, string>, entry = Object.keys(files)[0]!, includePaths: string[] = ['/etc/apparmor.d']): Fixture {
  const loaded = loadPolicy(entry, memoryFileReader(files), { includePaths });
  if (!loaded.ok) throw new Error(`fixture does not load: ${loaded.diagnostics.map((d) => `${d.file}:${d.line} ${d.code} ${d.message}`).join('; ')}`);
  const { compiled } = compilePolicy(loaded.resolved);
  return { loaded, compiled };
}

let serial = 100;
/** One kernel audit line (type=1400) for the given fields, with a fresh serial. */
export function avc(fields: string, type: 'ALLOWED' | 'DENIED' = 'ALLOWED', epoch = 1765000000): string {
  serial++;
  return `type=AVC msg=audit(${epoch}.${String(serial % 1000).padStart(3, '0')}:${serial}): apparmor="${type}" ${fields}`;
}

export function eventsOf(lines: readonly string[]): AuditEvent[] {
  const out: AuditEvent[] = [];
  lines.forEach((line, i) => {
    const record = parseLine(line, i + 1, 'audit.log');
    if (record.kind === 'event') out.push(record.event);
  });
  return out;
}
