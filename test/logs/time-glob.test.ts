// --since and syslog timestamps; --profile globs over labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { labelGlob, parseSince, parseSyslogTime } from '../../src/logs/index.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

test('syslog timestamps: RFC 3339 with zones and fractions, ISO with a space, BSD without a year', () => {
  assert.equal(parseSyslogTime('2026-02-11T17:49:21.719707+01:00'), Date.UTC(2026, 1, 11, 16, 49, 21, 719));
  assert.equal(parseSyslogTime('2013-01-01 15:09:04+08:00'), Date.UTC(2013, 0, 1, 7, 9, 4));
  assert.equal(parseSyslogTime('2013-01-01T15:09:04Z'), Date.UTC(2013, 0, 1, 15, 9, 4));
  assert.equal(parseSyslogTime('Jan  1 15:09:04.5-08:00', NOW), Date.UTC(2026, 0, 1, 23, 9, 4, 500));
  // a BSD date later than now belongs to last year
  assert.equal(parseSyslogTime('Dec 31 23:00:00Z', NOW), Date.UTC(2025, 11, 31, 23, 0, 0));
  assert.equal(parseSyslogTime('Foo  1 15:09:04'), undefined);
  assert.equal(parseSyslogTime('yesterday'), undefined);
});

test('--since: epoch seconds, dates, date-times and durations ago', () => {
  assert.equal(parseSince('@1763776800', NOW), 1763776800000);
  assert.equal(parseSince('1763776800.5', NOW), 1763776800500);
  assert.equal(parseSince('2026-11-22T10:00:00Z', NOW), Date.UTC(2026, 10, 22, 10));
  assert.equal(parseSince('90s', NOW), NOW - 90_000);
  assert.equal(parseSince('15m', NOW), NOW - 900_000);
  assert.equal(parseSince('2h', NOW), NOW - 7_200_000);
  assert.equal(parseSince('3d', NOW), NOW - 3 * 86_400_000);
  assert.equal(parseSince('1w', NOW), NOW - 604_800_000);
  assert.equal(typeof parseSince('2026-11-22', NOW), 'number');
  assert.equal(parseSince('soon', NOW), undefined);
});

test('--profile globs: * stays inside a path element, ** crosses, a profile selects its hats', () => {
  const m = (glob: string, label: string) => labelGlob(glob)(label);
  assert.equal(m('apache2', 'apache2'), true);
  assert.equal(m('apache2', 'apache2//www.example.com'), true);
  assert.equal(m('apache2', 'apache2-other'), false);
  assert.equal(m('apache2//*', 'apache2//www.example.com'), true);
  assert.equal(m('apache2//*', 'apache2'), false);
  assert.equal(m('apache2//www.*.org', 'apache2//www.a.org'), true);
  assert.equal(m('apache2//www.*.org', 'apache2//www.a.com'), false);
  assert.equal(m('/usr/sbin/*', '/usr/sbin/apache2'), true);
  assert.equal(m('/usr/*', '/usr/sbin/apache2'), false);
  assert.equal(m('/usr/**', '/usr/sbin/apache2'), true);
  assert.equal(m('**php**', 'php-fpm//shop'), true);
  assert.equal(m('php-fpm//sho?', 'php-fpm//shop'), true);
  assert.equal(m('a.b', 'aXb'), false, 'dots are literal');
});

/** The reading of a glob that labelGlob implements, as a regular expression (exponential on some inputs: small ones only). */
function referenceGlob(glob: string): (label: string) => boolean {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') { source += '.*'; i++; }
    else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  const pattern = new RegExp(`^(?:${source})(?://.*)?$`, 's');
  return (label) => pattern.test(label);
}

test('--profile globs agree with their regular-expression reading on generated globs and labels', () => {
  const piece = fc.constantFrom('a', 'b', '/', '//', '*', '**', '?', '.', '-', '\n');
  const text = (max: number) => fc.array(piece, { maxLength: max }).map((parts) => parts.join(''));
  const label = fc.array(fc.constantFrom('a', 'b', '/', '//', '.', '-', '\n', '*'), { maxLength: 12 }).map((parts) => parts.join(''));
  fc.assert(fc.property(text(8), label, (glob, l) => {
    assert.equal(labelGlob(glob)(l), referenceGlob(glob)(l), `${JSON.stringify(glob)} on ${JSON.stringify(l)}`);
  }), { numRuns: 5000 });
});

test('--profile globs with many stars match in linear time (a backtracking matcher takes minutes)', () => {
  // '*a' 14 times then 'b' against 40 'a's: the regular expression above needs about 4 s at 8 stars and
  // ten times more for every two more; the automaton answers in microseconds.
  const cpuMs = (fn: () => void) => { const t = process.cpuUsage(); fn(); const u = process.cpuUsage(t); return (u.user + u.system) / 1000; };
  let result = true;
  const small = cpuMs(() => { result = labelGlob(`${'*a'.repeat(14)}b`)('a'.repeat(40)); });
  assert.equal(result, false);
  assert.ok(small < 500, `14 stars took ${small} ms`);
  // Thousands of stars, a long label: bounded by glob × label steps.
  const large = cpuMs(() => { result = labelGlob(`${'*'.repeat(20_000)}x`)(`${'a'.repeat(50_000)}`); });
  assert.equal(result, false);
  assert.ok(large < 2000, `20,000 stars on a 50,000-character label took ${large} ms`);
  const mixed = cpuMs(() => { result = labelGlob(`${'*a'.repeat(200)}b`)(`${'a'.repeat(2000)}`); });
  assert.equal(result, false);
  assert.ok(mixed < 2000, `200 '*a' on 2,000 characters took ${mixed} ms`);
  assert.equal(labelGlob(`${'*a'.repeat(200)}`)(`${'a'.repeat(2000)}//hat`), true);
});
