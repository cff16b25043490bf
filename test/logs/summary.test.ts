// summarize: grouping, counts, first/last, floods and change_hat loops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { parseLine, readEvents, summarize, Summarizer, type AuditEvent } from '../../src/logs/index.js';

function ev(line: string, n = 1): AuditEvent {
  const r = parseLine(line, n);
  assert.equal(r.kind, 'event', line);
  return (r as { event: AuditEvent }).event;
}

const deny = (serial: number, ms: number, name: string, hat = 'a.org', mask = 'r') =>
  `type=AVC msg=audit(${1763776800 + Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}:${serial}): apparmor="DENIED" operation="open" profile="apache2//${hat}" name="${name}" pid=1 comm="apache2" requested_mask="${mask}" denied_mask="${mask}" fsuid=33 ouid=0`;

test('groups by label, class, operation and object, with counts, time range and merged masks', () => {
  const events = [
    ev(deny(1, 0, '/srv/b.org/x')),
    ev(deny(2, 1500, '/srv/b.org/x', 'a.org', 'w')),
    ev(deny(3, 3000, '/srv/b.org/x')),
    ev(deny(4, 100, '/srv/c.org/y')),
    ev(deny(5, 200, '/srv/b.org/x', 'c.org')),
  ];
  const s = summarize(events);
  assert.equal(s.events, 5);
  assert.equal(s.groups.length, 3);
  const top = s.groups[0]!;
  assert.equal(top.count, 3);
  assert.equal(top.label, 'apache2//a.org');
  assert.equal(top.profile, 'apache2');
  assert.equal(top.hat, 'a.org');
  assert.equal(top.object, '/srv/b.org/x');
  assert.deepEqual(top.denied?.perms, ['r', 'w']);
  assert.equal(top.first, 1763776800000);
  assert.equal(top.last, 1763776803000);
  assert.equal(top.owner, false);
  assert.deepEqual(s.byType, { DENIED: 5 });
  assert.deepEqual(s.floods, []);
});

test('a flood: the same event more than N times in one second is reported, once, with its peak', () => {
  const summarizer = new Summarizer({ floodPerSecond: 50 });
  const alerts = [];
  for (let i = 0; i < 200; i++) {
    const flood = summarizer.add(ev(deny(i, 5000 + (i % 100) * 5, '/srv/b.org/loop')));
    if (flood) alerts.push(flood);
  }
  for (let i = 0; i < 40; i++) summarizer.add(ev(deny(1000 + i, 9000 + i, '/srv/b.org/quiet')));
  assert.equal(alerts.length, 1, 'reported when it starts, not on every event');
  const s = summarizer.result();
  assert.equal(s.floods.length, 1);
  const flood = s.floods[0]!;
  assert.equal(flood.kind, 'rate');
  assert.equal(flood.object, '/srv/b.org/loop');
  assert.equal(flood.count, 200);
  assert.ok(flood.peakPerSecond > 50);
  assert.match(flood.message, /flood: DENIED open \/srv\/b\.org\/loop by apache2\/\/a\.org/);
});

test('a change_hat loop into a missing hat is a flood even at a slow rate', () => {
  const events = [];
  for (let i = 0; i < 12; i++) {
    events.push(ev(`type=AVC msg=audit(${1763776800 + i * 10}.000:${i}): apparmor="ALLOWED" operation="change_hat" info="hat not found" error=-2 profile="apache2" pid=10 comm="apache2" name="www.missing.org"`));
  }
  const s = summarize(events, { changeHatLoop: 10 });
  assert.equal(s.floods.length, 1);
  assert.equal(s.floods[0]!.kind, 'change-hat-loop');
  assert.match(s.floods[0]!.message, /change_hat loop: apache2 tried to enter missing hat www\.missing\.org 12 times/);
  assert.deepEqual(summarize(events.slice(0, 5), { changeHatLoop: 10 }).floods, []);
});

test('summarize accepts an async iterable (streaming) and keeps memory to the groups', async () => {
  const lines = [];
  for (let i = 0; i < 5000; i++) lines.push(deny(i, i * 3, `/srv/b.org/f${i % 7}`, `h${i % 3}`));
  const s = await summarize(readEvents(Readable.from([lines.join('\n')])));
  assert.equal(s.events, 5000);
  assert.equal(s.groups.length, 21);
  assert.equal(s.groups.reduce((n, g) => n + g.count, 0), 5000);
});
