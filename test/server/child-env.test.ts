import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childEnvironment } from '../../src/server/child-env.js';

test("a child's environment holds the runtime's variables and its own, never the supervisor's secrets", () => {
  const supervisor = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', NODE_OPTIONS: '--max-old-space-size=512', DB_PASSWORD: 'hunter2', AWS_SECRET_ACCESS_KEY: 'x', HOME: '/root', SSH_AUTH_SOCK: '/tmp/agent' };
  const env = childEnvironment({ HATTER_ROLE: 'worker', HATTER_LABEL: 'p//bob' }, supervisor);
  assert.deepEqual(env, { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', NODE_OPTIONS: '--max-old-space-size=512', HATTER_ROLE: 'worker', HATTER_LABEL: 'p//bob' });
});

test("the child's own variables win over the supervisor's of the same name", () => {
  assert.equal(childEnvironment({ PATH: '/x' }, { PATH: '/usr/bin' }).PATH, '/x');
});
