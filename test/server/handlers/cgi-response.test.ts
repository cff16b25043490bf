// Reading CGI response heads: a head seen before is parsed once and shared, which must not change any
// answer (a broken head throws every time; a shared header list cannot be changed by one response).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CgiHeadReader, cgiResponseStart, parseCgiHead, type CgiResponseHead } from '../../../src/server/handlers/cgi-response.js';

function read(text: string): { head: CgiResponseHead; rest: string } | Error {
  try {
    const done = new CgiHeadReader().push(Buffer.from(text, 'latin1'));
    return done ? { head: done.head, rest: done.rest.toString('latin1') } : new Error('incomplete');
  } catch (error) {
    return error as Error;
  }
}

test('a head read again gives the same answer; a broken one throws every time', () => {
  const good = 'Content-type: text/html; charset=UTF-8\r\nStatus: 404 Gone\r\n\r\nbody';
  for (let i = 0; i < 3; i++) {
    const answer = read(good);
    assert.ok(!(answer instanceof Error));
    assert.equal(answer.head.status, 404);
    assert.equal(answer.head.reason, 'Gone');
    assert.deepEqual(answer.head.headers, [['Content-type', 'text/html; charset=UTF-8']]);
    assert.equal(answer.rest, 'body');
  }
  for (let i = 0; i < 3; i++) {
    assert.match(String(read('Content-Type text/plain\r\n\r\nbody')), /malformed header line/);
    assert.match(String(read('X-A: one\x01two\r\n\r\n')), /control character/);
  }
});

test('the header list of a shared head is frozen: one response cannot change the next one', () => {
  const first = read('X-One: 1\r\nX-Two: 2\r\n\r\n');
  assert.ok(!(first instanceof Error));
  const start = cgiResponseStart(first.head, 'GET');
  assert.deepEqual(start.headers, ['X-One', '1', 'X-Two', '2']);
  assert.ok(Object.isFrozen(start.headers));
  assert.throws(() => { (start.headers as string[]).push('X-Three', '3'); });
  const again = read('X-One: 1\r\nX-Two: 2\r\n\r\n');
  assert.ok(!(again instanceof Error));
  assert.deepEqual(cgiResponseStart(again.head, 'HEAD'), { status: 200, reason: undefined, headers: ['X-One', '1', 'X-Two', '2'], bodiless: true });
});

// Heads from a small alphabet of lines, so that the same heads come back and the cache is exercised.
const line = fc.constantFrom('Content-Type: text/html', 'Status: 201 Made', 'Status: 999', 'Location: /x', 'X-A: b', 'Bad Line', 'X-B: c\x01', 'Set-Cookie: a=1', 'Connection: close');
const head = fc.array(line, { minLength: 1, maxLength: 4 }).map((lines) => lines.join('\r\n') + '\r\n\r\n');

test('property: reading a head (parsed once, then shared) answers as parsing it afresh does', () => {
  fc.assert(fc.property(fc.array(head, { minLength: 1, maxLength: 6 }), (heads) => {
    for (const text of [...heads, ...heads]) {
      const answer = read(text);
      let expected: CgiResponseHead | Error;
      try { expected = parseCgiHead(text.slice(0, -4)); } catch (error) { expected = error as Error; }
      if (expected instanceof Error) assert.equal(String(answer), String(expected));
      else assert.deepEqual(answer instanceof Error ? answer : answer.head, expected);
    }
  }), { numRuns: 300 });
});
