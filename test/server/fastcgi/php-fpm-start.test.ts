// How serve starts a site's PHP-FPM master under AppArmor: in the parent profile (FPM's apparmor_hat
// moves the children into the hat), through the launcher when the supervisor is not in that profile,
// its label verified either way. A fake backend records what it is asked.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { phpFpmConfinement, type PhpFpmStart } from '../../../src/server/fastcgi/index.js';
import type { ConfinementBackend, ConfinementRequest, PreparedConfinement } from '../../../src/confine/index.js';

function fakeStart(supervisor: string): { start: PhpFpmStart; asked: (string | null)[]; spawned: string[]; verified: { label: string; pid: number }[] } {
  const asked: (string | null)[] = [];
  const spawned: string[] = [];
  const verified: { label: string; pid: number }[] = [];
  const backend = {
    name: 'apparmor',
    probe: async () => ({ available: true, reason: '', details: {} }),
    prepare: async () => ({ diagnostics: [] }),
    spawn: (prepared: PreparedConfinement, command: string) => { spawned.push(`${prepared.label} ${command}`); return {} as ChildProcess; },
    verify: async (prepared: PreparedConfinement, pid: number) => { verified.push({ label: prepared.label, pid }); return { ok: true, detail: '' }; },
  } satisfies ConfinementBackend;
  const start: PhpFpmStart = {
    backend,
    output: { info: () => {}, warn: () => {} },
    confine: async (hat: string | null, _runtime: ConfinementRequest['runtime']) => {
      asked.push(hat);
      const label = hat === null ? 'site' : `site//${hat}`;
      return { backend: 'apparmor', label, summary: { backend: 'apparmor', label, supervisor }, warnings: [] };
    },
  };
  return { start, asked, spawned, verified };
}

describe('a PHP-FPM master under AppArmor', () => {
  const route = { label: 'site//alice', hat: 'alice', others: [] };

  it('started by a supervisor in the parent profile: a plain spawn, children sent to the hat, label verified', async () => {
    const fake = fakeStart('site');
    const options = await phpFpmConfinement(fake.start, route, 'alice.test', '/run/alice');
    assert.deepEqual(fake.asked, [null], 'the parent profile is prepared, not the hat');
    assert.equal(options.apparmorHat, 'alice');
    assert.equal(options.spawnMaster, undefined);
    assert.ok(options.verifyMaster);
    await options.verifyMaster(42);
    assert.deepEqual(fake.verified, [{ label: 'site', pid: 42 }]);
  });

  it('started by an unconfined supervisor (--load-policy): through the launcher into the parent profile', async () => {
    const fake = fakeStart('unconfined');
    const options = await phpFpmConfinement(fake.start, route, 'alice.test', '/run/alice');
    assert.equal(options.apparmorHat, 'alice');
    assert.ok(options.spawnMaster);
    options.spawnMaster('/usr/sbin/php-fpm8.2', [], {});
    assert.deepEqual(fake.spawned, ['site /usr/sbin/php-fpm8.2']);
    assert.ok(options.verifyMaster);
  });

  it('a site whose PHP routes to the parent profile itself gets no apparmor_hat', async () => {
    const fake = fakeStart('site');
    const options = await phpFpmConfinement(fake.start, { label: 'site', hat: null, others: [] }, 'alice.test', '/run/alice');
    assert.equal(options.apparmorHat, undefined);
  });
});
