// Debian's python3-libapparmor (the reference log parser), run once over many lines.
import { spawnSync } from 'node:child_process';

/**
 * Parse each line with LibAppArmor.parse_record and return, per line, the value of `recordExpression`
 * (Python, over the record `r`; `event` is its type name: DENIED, INVALID, ...), or a skip reason when
 * the package is not usable.
 */
export function parseWithLibAppArmor<T>(lines: readonly string[], recordExpression: string): T[] | string {
  const script = `
import sys, json
import LibAppArmor as L
names = {L.AA_RECORD_INVALID: 'INVALID', L.AA_RECORD_ERROR: 'ERROR', L.AA_RECORD_AUDIT: 'AUDIT', L.AA_RECORD_ALLOWED: 'ALLOWED',
         L.AA_RECORD_DENIED: 'DENIED', L.AA_RECORD_HINT: 'HINT', L.AA_RECORD_STATUS: 'STATUS'}
out = []
for line in json.load(sys.stdin):
    r = L.parse_record(line)
    event = names.get(r.event, str(r.event))
    out.append(${recordExpression})
    L.free_record(r)
print(json.dumps(out))
`;
  const result = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(lines), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error || result.status !== 0) return `skipped: python3-libapparmor not usable (apt-get install python3-libapparmor): ${(result.stderr || String(result.error)).trim().split('\n').pop()}`;
  return JSON.parse(result.stdout) as T[];
}
