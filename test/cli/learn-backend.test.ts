// serve --learn's backend: it follows the configured policy's exec transitions, and says so when it cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LearningBackend } from '../../src/cli/learn-backend.js';
import { RecordingSession, StraceRecorder } from '../../src/record/index.js';

test('a policy that does not load: the pool is prepared with a record/no-transitions warning; a good one: none', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hatter-learn-backend-'));
  const session = new RecordingSession(new StraceRecorder('/usr/bin/strace'), { write: () => undefined });
  try {
    const backend = new LearningBackend(session, join(root, 'learn.jsonl'));
    const request = (policyFile: string) => ({ policyFile, profile: 'web', hat: 'site', runtime: { read: [], write: [], exec: [] } });
    writeFileSync(join(root, 'good'), 'profile web {\n  ^site {\n    /usr/bin/cat Px -> helper,\n  }\n}\nprofile helper {\n}\n');
    writeFileSync(join(root, 'broken'), 'profile web {\n  ^site {\n    /usr/bin/cat Px -> helper\n');
    const good = await backend.prepare(request(join(root, 'good')));
    assert.ok(good.prepared);
    assert.deepEqual(good.diagnostics.map((d) => d.code), []);
    const broken = await backend.prepare(request(join(root, 'broken')));
    assert.ok(broken.prepared, 'recording goes on without the transitions');
    assert.deepEqual(broken.diagnostics.map((d) => [d.code, d.severity]), [['record/no-transitions', 'warning']]);
  } finally {
    session.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
