// The CGI/1.1 variables: what came from the request travels byte for byte (FastCGI) or as the text its
// bytes spell (a CGI script's environment), and names of files and paths as UTF-8.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HandlerContext } from '../../../src/server/handler.js';
import { cgiEnvironment, cgiVariables } from '../../../src/server/handlers/cgi-environment.js';

const ctx: HandlerContext = {
  siteName: 'café.test', serverName: 'café.test', hat: 'h', label: 'p//h', documentRoot: '/srv/été/', locationPrefix: '/',
  remoteAddress: '127.0.0.1', remotePort: 5000, serverAddress: '127.0.0.1', serverPort: 80, signal: new AbortController().signal,
};
// As node:http and the front decode them: one character per byte ("café" in UTF-8, then a lone 0xe9).
const header = Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xe9]).toString('latin1');
const request = { method: 'GET', url: '/x.php/%C3%A9', httpVersion: '1.1', headers: { 'x-name': header }, query: '' };
const script = { scriptName: '/x.php', scriptFilename: '/srv/été/x.php', pathInfo: '/é' };

test('FastCGI variables are byte strings: header bytes as sent, names and paths as their UTF-8 bytes', () => {
  const variables = new Map(cgiVariables(request, script, ctx));
  const bytes = (name: string) => [...Buffer.from(variables.get(name)!, 'latin1')];
  assert.deepEqual(bytes('HTTP_X_NAME'), [0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xe9]);
  assert.deepEqual(bytes('PATH_INFO'), [...Buffer.from('/é')]);
  assert.deepEqual(bytes('SCRIPT_FILENAME'), [...Buffer.from('/srv/été/x.php')]);
  assert.deepEqual(bytes('PATH_TRANSLATED'), [...Buffer.from('/srv/été/é')]);
  assert.deepEqual(bytes('SERVER_NAME'), [...Buffer.from('café.test')]);
  for (const [, value] of variables) assert.doesNotMatch(value, /[^\x00-\xff]/);
});

test("a CGI script's environment is text: UTF-8 bytes read as UTF-8, a byte that is not UTF-8 as U+FFFD", () => {
  const environment = cgiEnvironment(request, script, ctx);
  assert.equal(environment['HTTP_X_NAME'], 'café \ufffd');
  assert.equal(environment['PATH_INFO'], '/é');
  assert.equal(environment['SCRIPT_FILENAME'], '/srv/été/x.php');
  assert.equal(environment['SERVER_NAME'], 'café.test');
});
