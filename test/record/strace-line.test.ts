// The strace output parser and the tracker on hand-written traces (no strace needed), and a fuzz test:
// random and truncated lines give diagnostics, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeEscapes, eventsFromTrace, interpreterOf, parseStraceLine, splitArguments, StraceAssembler, type RecordHost } from '../../src/record/index.js';
import { eventToJson } from '../../src/logs/index.js';

/** A file system where nothing is a symlink and only the given directories are directories. */
function host(links: Record<string, string> = {}, directories: string[] = []): RecordHost {
  return {
    realpath: (path) => links[path] ?? path,
    isDirectory: (path) => directories.includes(path),
  };
}

function summary(trace: string, h = host(), label = 'p'): string[] {
  const { events } = eventsFromTrace(trace, { label, cwd: '/start', host: h, uid: 1000 });
  return events.map((e) => {
    const j = eventToJson(e);
    return [j.type, j.operation, j.label, j.name, j.requested, j.target, j.family, j.sockType, j.foreignPort, j.signal, j.peer, j.capability, j.error]
      .filter((v) => v !== undefined).join(' ');
  });
}

test('a call, its -yy annotations and its result', () => {
  const parsed = parseStraceLine('31665 1796610635.278361 openat(AT_FDCWD</tmp/r>, "a b\\"c", O_RDONLY|O_CLOEXEC) = 3</tmp/r/a b"c>', 7);
  assert.equal(parsed.kind, 'call');
  if (parsed.kind !== 'call') return;
  assert.equal(parsed.pid, 31665);
  assert.equal(parsed.name, 'openat');
  assert.deepEqual(parsed.args, ['AT_FDCWD</tmp/r>', '"a b\\"c"', 'O_RDONLY|O_CLOEXEC']);
  assert.deepEqual(parsed.result, { value: 3, annotation: '/tmp/r/a b"c' });
  const failed = parseStraceLine('1 1.5 openat(AT_FDCWD</>, "x", O_RDONLY) = -1 ENOENT (No such file or directory)', 1);
  assert.equal(failed.kind === 'call' && failed.result.errno, 'ENOENT');
});

test('arguments split only at top level (strings, braces, brackets, annotations with arrows, comments)', () => {
  assert.deepEqual(splitArguments('3<TCP:[127.0.0.1:1->127.0.0.1:2]>, {sa_family=AF_INET, sin_port=htons(80)}, 16'),
    ['3<TCP:[127.0.0.1:1->127.0.0.1:2]>', '{sa_family=AF_INET, sin_port=htons(80)}', '16']);
  assert.deepEqual(splitArguments('"/bin/x", ["x", "a,b"], 0x55 /* 3 vars, */'), ['"/bin/x"', '["x", "a,b"]', '0x55 /* 3 vars, */']);
});

test('C escapes decode to UTF-8 bytes', () => {
  assert.equal(decodeEscapes('a\\nb\\tc\\\\d\\"e'), 'a\nb\tc\\d"e');
  assert.equal(decodeEscapes('\\303\\251\\x41'), 'éA');
});

test('<unfinished ...> and <... resumed> are joined per pid; a resumed without start is a diagnostic', () => {
  const trace = [
    '10 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0',
    '10 1.1 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>',
    '11 1.2 openat(AT_FDCWD</w>, "child.txt", O_RDONLY <unfinished ...>',
    '10 1.3 <... clone resumed>) = 11',
    '11 1.4 <... openat resumed>) = 3</w/child.txt>',
    '12 1.5 <... openat resumed>) = 3</nowhere>',
  ].join('\n');
  const { events, diagnostics } = eventsFromTrace(trace, { label: 'p//hat', cwd: '/', host: host() });
  assert.deepEqual(events.map((e) => [e.operation, e.object.name, e.pid, e.parent, e.label?.text]), [['open', '/w/child.txt', 11, 10, 'p//hat']]);
  assert.deepEqual(diagnostics.map((d) => d.code), ['record/orphan-resumed']);
});

test('open flags give AppArmor masks; missing files are hints; O_PATH is not mediated', () => {
  const trace = [
    '1 1.0 openat(AT_FDCWD</w>, "r", O_RDONLY) = 3</w/r>',
    '1 1.0 openat(AT_FDCWD</w>, "w", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3</w/w>',
    '1 1.0 openat(AT_FDCWD</w>, "a", O_WRONLY|O_APPEND) = 3</w/a>',
    '1 1.0 openat(AT_FDCWD</w>, "rw", O_RDWR) = 3</w/rw>',
    '1 1.0 openat(AT_FDCWD</w>, "d", O_RDONLY|O_DIRECTORY) = 3</w/d>',
    '1 1.0 openat(AT_FDCWD</w>, "p", O_PATH) = 3</w/p>',
    '1 1.0 openat(AT_FDCWD</w>, "gone", O_RDONLY) = -1 ENOENT (No such file or directory)',
    '1 1.0 openat(AT_FDCWD</w>, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
    '1 1.0 open("/proc/self/status", O_RDONLY) = 3</proc/1/status>',
  ].join('\n');
  assert.deepEqual(summary(trace), [
    'ALLOWED open p /w/r r', 'ALLOWED open p /w/w wc', 'ALLOWED open p /w/a a', 'ALLOWED open p /w/rw rw', 'ALLOWED open p /w/d/ r',
    'HINT open p /w/gone r 2', 'ALLOWED open p /etc/shadow r 13', 'ALLOWED open p /proc/1/status r',
  ]);
});

test('paths: cwd from chdir and AT_FDCWD, openat(dirfd), .., symlinks resolved by the host, fork inherits the cwd', () => {
  const trace = [
    '1 1.0 chdir("/srv/site") = 0',
    '1 1.1 rename("a", "../b") = 0',
    '1 1.2 openat(5</srv/site/sub>, "../x/./y", O_RDONLY) = -1 EACCES (Permission denied)',
    '1 1.3 unlink("link") = 0',
    '1 1.4 open("link", O_RDONLY) = -1 EACCES (Permission denied)',
    '1 1.5 fork() = 2',
    '2 1.6 mkdir("new", 0755) = 0',
    '2 1.7 execve("./tool", ["tool"], 0x1 /* 0 vars */) = 0',
  ].join('\n');
  assert.deepEqual(summary(trace, host({ '/srv/site/link': '/data/real', '/srv/site/tool': '/usr/bin/tool' })), [
    'ALLOWED rename_src p /srv/site/a rwd /srv/b', 'ALLOWED rename_dest p /srv/b wc',
    'ALLOWED open p /srv/site/x/y r 13', 'ALLOWED unlink p /srv/site/link d', 'ALLOWED open p /data/real r 13',
    'ALLOWED mkdir p /srv/site/new/ c', 'ALLOWED exec p /usr/bin/tool x',
  ]);
});

test('sockets, signals and inferred capabilities', () => {
  const trace = [
    '1 1.0 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3<TCP:[9]>',
    '1 1.1 bind(3<TCP:[9]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
    '1 1.2 listen(3<TCP:[0.0.0.0:80]>, 128) = 0',
    '1 1.3 connect(4<UNIX-STREAM:[7]>, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = 0',
    '1 1.4 connect(5<UDP:[8]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    '1 1.5 fork() = 2',
    '1 1.6 kill(2, SIGTERM) = 0',
    '1 1.7 kill(99, 0) = 0',
    '1 1.8 chown("/w/f", 0, 0) = -1 EPERM (Operation not permitted)',
  ].join('\n');
  assert.deepEqual(summary(trace), [
    'ALLOWED bind p bind inet stream', 'ALLOWED capable p net_bind_service', 'ALLOWED listen p listen inet stream',
    'ALLOWED connect p /run/x.sock w', 'ALLOWED connect p connect unix stream', 'ALLOWED connect p connect inet dgram 53',
    'ALLOWED signal p send term p', 'ALLOWED chown p /w/f w 1', 'ALLOWED capable p chown 1',
  ]);
});

test('a child that execs a program with a profile of its own gets it; its signals name the peer by label', () => {
  const trace = [
    '1 1.0 fork() = 2',
    '2 1.1 execve("/usr/bin/helper", ["helper"], 0x1 /* 0 vars */) = 0',
    '2 1.2 openat(AT_FDCWD</>, "/etc/h", O_RDONLY) = 3</etc/h>',
    '1 1.3 kill(2, SIGUSR1) = 0',
  ].join('\n');
  const { events } = eventsFromTrace(trace, { label: 'web//site', cwd: '/', host: host(), transitions: (label, binary) => (label === 'web//site' && binary === '/usr/bin/helper' ? 'helper' : undefined) });
  assert.deepEqual(events.map((e) => [e.operation, e.label?.text, e.object.name ?? e.object.signal, e.object.target ?? e.object.peer]), [
    ['exec', 'web//site', '/usr/bin/helper', 'helper'], ['open', 'helper', '/etc/h', undefined], ['signal', 'web//site', 'usr1', 'helper'],
  ]);
});

test('a script\'s exec names its #! interpreter too (the kernel checks it; strace does not show it)', () => {
  const trace = [
    '1 1.0 fork() = 2',
    '2 1.1 execve("/srv/cgi-bin/hello.cgi", ["hello.cgi"], 0x1 /* 0 vars */) = 0',
    '1 1.2 fork() = 3',
    '3 1.3 execve("/usr/bin/true", ["true"], 0x1 /* 0 vars */) = 0',
  ].join('\n');
  const scripts: Record<string, string> = { '/srv/cgi-bin/hello.cgi': '/bin/sh' };
  const h: RecordHost = { ...host({ '/bin/sh': '/usr/bin/dash' }), interpreter: (path) => scripts[path] };
  assert.deepEqual(summary(trace, h), ['ALLOWED exec p /srv/cgi-bin/hello.cgi x', 'ALLOWED exec p /usr/bin/dash x', 'ALLOWED exec p /usr/bin/true x']);
});

test('interpreterOf reads a #! line as the kernel does', () => {
  assert.equal(interpreterOf('#!/bin/sh\necho'), '/bin/sh');
  assert.equal(interpreterOf('#! /usr/bin/env node\n'), '/usr/bin/env');
  assert.equal(interpreterOf('#!/bin/bash\t-e\n'), '/bin/bash');
  assert.equal(interpreterOf('\x7fELF'), undefined);
  assert.equal(interpreterOf('#!relative\n'), undefined);
});

const FRAGMENTS = [
  '123 ', '1.5 ', '02:03:04.5 ', 'openat(', 'AT_FDCWD<', '/tmp', '>', '"', '\\', '\\x', ', ', 'O_RDONLY', ') = ', '3<', '-1 ENOENT (x)',
  '<unfinished ...>', '<... openat resumed>', '--- SIGCHLD {} ---', '+++ exited with 0 +++', '+++ killed by SIGKILL +++', '{', '}', '[', ']',
  'clone(', 'execve(', 'kill(', 'connect(', 'sa_family=AF_UNIX, sun_path="', '->', '/* 3 vars */', '?', '=', 'é', '\n',
];
const lineArbitrary = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 30 }).map((parts) => parts.join('')),
);

test('fuzz: random and cut lines never throw; unreadable lines become diagnostics', () => {
  const real = '31665 1796610635.2 openat(AT_FDCWD</tmp/r>, "/x", O_WRONLY|O_CREAT, 0666) = 3</x>';
  fc.assert(fc.property(fc.array(fc.oneof(lineArbitrary, fc.nat({ max: real.length }).map((n) => real.slice(0, n))), { maxLength: 30 }), (lines) => {
    const assembler = new StraceAssembler();
    for (const [i, line] of lines.entries()) {
      const parsed = parseStraceLine(line, i + 1);
      assert.ok(['call', 'signal', 'exit', 'unfinished', 'resumed', 'diagnostic', 'ignored'].includes(parsed.kind));
      assembler.push(parsed);
    }
    const result = eventsFromTrace(lines.join('\n'), { label: 'p', cwd: '/', host: host() });
    assert.ok(Array.isArray(result.events));
  }), { numRuns: 500 });
});
