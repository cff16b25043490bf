// Bounded cost: identical events are written once per interval with a count, at most `cap` distinct
// ones; and a recorded event reads back from its JSON line unchanged (eventFromJson).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventFromJson, eventToJson, parseLine } from '../../src/logs/index.js';
import { EventCounter, eventsFromTrace } from '../../src/record/index.js';

const host = { realpath: (p: string) => p, isDirectory: () => false };
const trace = (n: number, name = 'f'): string =>
  Array.from({ length: n }, (_, i) => `${100 + i} 1.${i} openat(AT_FDCWD</w>, "${name}", O_RDONLY) = 3</w/${name}>`).join('\n');

test('identical events from different pids are counted once per interval; the next interval starts over', () => {
  const counter = new EventCounter({ intervalMs: 1000, cap: 100 });
  for (const e of eventsFromTrace(trace(1000), { label: 'p//h', cwd: '/', host }).events) counter.add(e);
  const first = counter.flush();
  assert.equal(first.length, 1);
  assert.equal(first[0]!.extra?.['count'], '1000');
  assert.deepEqual(counter.flush(), []);
});

test('more distinct events than the cap: the rest are dropped and counted', () => {
  const counter = new EventCounter({ intervalMs: 1000, cap: 3 });
  for (const name of ['a', 'b', 'c', 'd', 'e']) for (const e of eventsFromTrace(trace(1, name), { label: 'p', cwd: '/', host }).events) counter.add(e);
  assert.deepEqual(counter.flush().map((e) => e.object.name), ['/w/a', '/w/b', '/w/c']);
  assert.equal(counter.dropped, 2);
});

test('a recorded event survives its JSON line', () => {
  const text = [
    '1 1796610635.5 openat(AT_FDCWD</w>, "x", O_WRONLY|O_CREAT, 0644) = 3</w/x>',
    '1 1796610635.6 connect(4<TCP:[1]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    '1 1796610635.7 openat(AT_FDCWD</w>, "gone", O_RDONLY) = -1 ENOENT (No such file or directory)',
  ].join('\n');
  for (const event of eventsFromTrace(text, { label: 'p//h', cwd: '/', host }).events) {
    const json = JSON.parse(JSON.stringify(eventToJson(event))) as Record<string, unknown>;
    assert.deepEqual(eventToJson(eventFromJson(json, event.line)!), eventToJson(event));
    // hatter logs and hatter learn read a recording like an audit log: parseLine takes the JSON line.
    const parsed = parseLine(JSON.stringify(eventToJson(event)), event.line);
    assert.equal(parsed.kind, 'event');
    if (parsed.kind === 'event') assert.deepEqual(eventToJson(parsed.event), eventToJson(event));
  }
  assert.equal(eventFromJson({ operation: 'open' }, 1), undefined);
  assert.equal(eventFromJson({ type: 'NOPE' }, 1), undefined);
});
