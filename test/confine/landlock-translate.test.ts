import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coveringPath, expandAlternations, ownProcEntry, rightsOf, translateHat, type TranslateOptions } from '../../src/confine/landlock-translate.js';
import { readHatRules } from '../../src/confine/hat-rules.js';
import { memoryFileReader } from '../../src/policy/resolve/index.js';
import { aareWideningOracle } from '../../src/confine/aare-oracle.js';
import { scratchDir } from '../support/confine.js';

const POLICY = `
# comment line
include "vars"
profile hatter {
  /srv/** r,
  ^bob {
    # bob's site
    @{SITE}/public/ r,
    @{SITE}/public/*.html r,
    @{SITE}/data/** rw,
    deny @{SITE}/data/secret* rw,
    owner @{SITE}/uploads/** rw,
    @{SITE}/log/access.log a,
    @{SITE}/cgi-bin/{hello,env}.cgi rix,
    "/srv/with space/x" r,
    network inet stream,
    signal (receive) peer=hatter,
  }
  ^alice {
    @{ROOT}/alice/** r,
  }
}
`;

const files = memoryFileReader({ '/p/hatter': POLICY, '/p/vars': '@{ROOT}=/srv/sites\n@{SITE}=@{ROOT}/bob  # a comment\n' });

test('the policy reader finds a hat, expands variables (defined in an include) and keeps sources', () => {
  const { rules, diagnostics } = readHatRules('/p/hatter', 'hatter', 'bob', { reader: files });
  assert.deepEqual(diagnostics, []);
  assert.ok(rules);
  assert.equal(rules.label, 'hatter//bob');
  assert.deepEqual(rules.files.map((r) => [r.pattern, r.perms, r.deny, r.owner, r.source.line]), [
    ['/srv/sites/bob/public/', 'r', false, false, 8],
    ['/srv/sites/bob/public/*.html', 'r', false, false, 9],
    ['/srv/sites/bob/data/**', 'rw', false, false, 10],
    ['/srv/sites/bob/data/secret*', 'rw', true, false, 11],
    ['/srv/sites/bob/uploads/**', 'rw', false, true, 12],
    ['/srv/sites/bob/log/access.log', 'a', false, false, 13],
    ['/srv/sites/bob/cgi-bin/{hello,env}.cgi', 'rix', false, false, 14],
    ['/srv/with space/x', 'r', false, false, 15],
  ]);
  assert.deepEqual(rules.others.map((r) => [r.kind, r.words.join(' ')]), [['network', 'inet stream'], ['signal', 'receive']]);
  // hats do not inherit the parent's rules
  assert.equal(rules.files.some((r) => r.pattern === '/srv/**'), false);
});

test('the policy reader reports unknown hats, undefined variables and unbalanced blocks as diagnostics', () => {
  const missing = readHatRules('/p/hatter', 'hatter', 'carol', { reader: files });
  assert.equal(missing.rules, undefined);
  assert.equal(missing.diagnostics[0]?.code, 'confine/hat-not-found');
  assert.match(missing.diagnostics[0]!.hint!, /hatter\/\/bob/);
  // the shared resolver's diagnostics come through with their own codes and positions
  const undefinedVar = readHatRules('/q', 'p', null, { reader: memoryFileReader({ '/q': 'profile p {\n  @{NOPE}/x r,\n}\n' }) });
  assert.ok(undefinedVar.diagnostics.some((d) => d.severity === 'error' && d.line === 2 && /NOPE/.test(d.message)), JSON.stringify(undefinedVar.diagnostics));
  const unclosed = readHatRules('/q', 'p', null, { reader: memoryFileReader({ '/q': 'profile p {\n  /x r,\n' }) });
  assert.ok(unclosed.diagnostics.some((d) => d.severity === 'error'), JSON.stringify(unclosed.diagnostics));
  const unreadable = readHatRules('/nope', 'p', null, { reader: memoryFileReader({}) });
  assert.equal(unreadable.diagnostics[0]?.code, 'confine/policy-unreadable');
});

test('the policy reader never throws on arbitrary text', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.constantFrom('', 'profile p {\n', '^h {', '@{A}={x,y}\n', 'include "self"\n'), (text, prefix) => {
    const result = readHatRules('/self', 'p', null, { reader: memoryFileReader({ '/self': prefix + text }) });
    assert.ok(Array.isArray(result.diagnostics));
  }), { numRuns: 300 });
});

test('alternations expand and covering paths are the deepest literal directory (or the file)', () => {
  assert.deepEqual(expandAlternations('/a/{b,c{d,e}}/f'), ['/a/b/f', '/a/cd/f', '/a/ce/f']);
  assert.deepEqual(expandAlternations('/a/{,x}y'), ['/a/y', '/a/xy']);
  assert.equal(expandAlternations(`/${'{a,b}'.repeat(10)}`), undefined);
  assert.deepEqual(coveringPath('/srv/bob/public/*.html'), { path: '/srv/bob/public', literal: false });
  assert.deepEqual(coveringPath('/srv/*/public/**'), { path: '/srv', literal: false });
  assert.deepEqual(coveringPath('/srv/bob/log/access.log'), { path: '/srv/bob/log/access.log', literal: true });
  assert.deepEqual(coveringPath('/srv/bob/public/'), { path: '/srv/bob/public', literal: true });
  assert.deepEqual(coveringPath('/**'), { path: '/', literal: false });
  fc.assert(fc.property(fc.stringMatching(/^\/[a-z/*?]{0,20}$/), (pattern) => {
    const { path } = coveringPath(pattern);
    // the covering path is a prefix of the pattern's literal part
    assert.ok(pattern.startsWith(path === '/' ? '/' : path));
  }));
});

/** An in-memory host: `isDirectory` and `list` over the paths given (their parent directories implied). */
function memoryHost(host: Record<string, 'dir' | 'file' | 'symlink'>): Pick<TranslateOptions, 'isDirectory' | 'list'> & { listed: () => number } {
  const kinds = new Map<string, 'dir' | 'file' | 'symlink'>(Object.entries(host));
  for (const path of Object.keys(host)) for (let at = path.lastIndexOf('/'); at >= 0; at = at > 0 ? path.lastIndexOf('/', at - 1) : -1) kinds.set(path.slice(0, at) || '/', 'dir');
  let listed = 0;
  return {
    isDirectory: (path) => { const kind = kinds.get(path); return kind === undefined || kind === 'symlink' ? undefined : kind === 'dir'; },
    list: (dir) => {
      listed++;
      if (kinds.get(dir) !== 'dir') return undefined;
      const prefix = dir === '/' ? '/' : `${dir}/`;
      return [...kinds].filter(([path]) => path !== '/' && path.startsWith(prefix) && !path.slice(prefix.length).includes('/')).map(([path, kind]) => ({ name: path.slice(prefix.length), kind }));
    },
    listed: () => listed,
  };
}

function translateOn(host: Record<string, 'dir' | 'file'>, abi = 7, withOracle = true) {
  const { rules } = readHatRules('/p/hatter', 'hatter', 'bob', { reader: files });
  const { isDirectory, list } = memoryHost(host);
  const options: TranslateOptions = { abi, isDirectory, list, ...(withOracle ? { oracle: aareWideningOracle() } : {}) };
  return translateHat(rules!, options);
}

const HOST: Record<string, 'dir' | 'file'> = {
  '/srv/sites/bob/public': 'dir', '/srv/sites/bob/public/index.html': 'file', '/srv/sites/bob/public/notes.txt': 'file',
  '/srv/sites/bob/public/old': 'dir', '/srv/sites/bob/public/old/a.html': 'file', '/srv/sites/bob/data': 'dir', '/srv/sites/bob/uploads': 'dir',
  '/srv/sites/bob/log/access.log': 'file', '/srv/sites/bob/cgi-bin/hello.cgi': 'file', '/srv/with space/x': 'file',
};

test('each allow rule becomes a grant on its deepest literal directory or file (or the files its glob matches), missing paths are left out', () => {
  const t = translateOn(HOST);
  assert.deepEqual(t.paths, [
    { path: '/srv/sites/bob/cgi-bin/hello.cgi', read: true, write: false, exec: true },
    { path: '/srv/sites/bob/data', read: true, write: true, exec: false },
    { path: '/srv/sites/bob/log/access.log', read: true, write: true, exec: false },
    // public/*.html: the existing .html files, not public (notes.txt, old/a.html are not in the hat)
    { path: '/srv/sites/bob/public/index.html', read: true, write: false, exec: false },
    { path: '/srv/with space/x', read: true, write: false, exec: false },
  ]);
  // the owner rule on uploads/** is narrowed away: Landlock cannot check the owner; public/ (the
  // directory alone) cannot be granted without what is beneath it; *.html only on what exists
  assert.deepEqual(t.narrowing.map((n) => [n.kind, n.source]), [['glob', '/p/hatter:8'], ['glob', '/p/hatter:9'], ['owner', '/p/hatter:12']]);
  assert.match(t.narrowing[0]!.summary, /1 matched directory not granted .*\/srv\/sites\/bob\/public\b/);
  assert.match(t.narrowing[1]!.summary, /granted only on the 1 existing path it matches beneath \/srv\/sites\/bob\/public, not on what is created later/);
  // the hat allows TCP: no network restriction; ABI 7 scopes signals and abstract sockets
  assert.equal(t.network, undefined);
  assert.equal(t.scoped, true);
});

test('widening lists globs, deny, owner, append and the global gaps, with exact AARE witnesses', () => {
  const t = translateOn(HOST);
  const byKind = (kind: string) => t.widening.filter((w) => w.kind === kind).map((w) => w.summary);
  // public/*.html is granted file by file: nothing beneath public is widening any more
  assert.equal(t.widening.some((w) => w.grant?.startsWith('/srv/sites/bob/public')), false, JSON.stringify(t.widening));
  assert.ok(byKind('glob').some((s) => /^write beneath \/srv\/sites\/bob\/data .*e\.g\. \/srv\/sites\/bob\/data\/secret/.test(s)), byKind('glob').join('\n'));
  assert.deepEqual(byKind('deny'), ['deny /srv/sites/bob/data/secret* rw cannot be kept: Landlock has no carve-outs inside the grant on /srv/sites/bob/data']);
  assert.deepEqual(byKind('owner'), []);
  assert.ok(byKind('rights').includes('/srv/sites/bob/log/access.log a: append-only becomes full write'));
  assert.ok(byKind('rights').some((s) => /^read on \/srv\/sites\/bob\/log\/access.log \(comes with write/.test(s)));
  assert.equal(byKind('metadata').length, 1);
  assert.equal(byKind('unix').length, 1);
  // exact: the data/** rw grant is not reported for read (data/** r is in the hat), only for what deny takes out
  assert.equal(t.widening.some((w) => /^read beneath \/srv\/sites\/bob\/data for/.test(w.summary) && !/secret/.test(w.summary)), false);
  // exec beneath the file hello.cgi is exact
  assert.equal(t.widening.some((w) => w.grant === '/srv/sites/bob/cgi-bin/hello.cgi' && /^exec/.test(w.summary)), false);
});

test('older ABIs widen more: no TCP rules before 4, no scoping before 6, truncate before 3', () => {
  const policy = memoryFileReader({ '/q': 'profile p {\n  /srv/x/** r,\n}\n' });
  const { rules } = readHatRules('/q', 'p', null, { reader: policy });
  const at = (abi: number) => translateHat(rules!, { abi, isDirectory: () => true });
  assert.deepEqual(at(7).network, { bind: [], connect: [] }); // hat has no network rule: no TCP at all
  assert.equal(at(7).scoped, true);
  const old = at(3);
  assert.equal(old.network, undefined);
  assert.equal(old.scoped, false);
  assert.ok(old.widening.some((w) => w.kind === 'network' && /TCP bind\/connect to any port/.test(w.summary)));
  assert.ok(old.widening.some((w) => w.kind === 'signal'));
  assert.ok(at(2).widening.some((w) => /truncate on any file/.test(w.summary)));
  assert.equal(at(7).widening.some((w) => /truncate/.test(w.summary)), false);
});

test('without the AARE engine every inexact grant is narrowed (it cannot tell what a glob adds)', () => {
  const t = translateOn(HOST, 7, false);
  assert.equal(t.paths.some((p) => p.path.startsWith('/srv/sites/bob/public')), false);
  assert.ok(t.narrowing.some((n) => n.kind === 'glob' && /^\/srv\/sites\/bob\/public\/\*\.html r: not granted .*the AARE engine cannot match it/.test(n.summary)), JSON.stringify(t.narrowing));
  assert.equal(t.widening.some((w) => w.grant === '/srv/sites/bob/log/access.log' && w.kind === 'glob'), false);
});

test('translation reads the real file system for directories (grants on files carry file rights)', () => {
  const dir = scratchDir('translate');
  mkdirSync(join(dir, 'public'));
  writeFileSync(join(dir, 'public', 'index.html'), '');
  writeFileSync(join(dir, 'policy'), `profile p {\n  ${dir}/public/** r,\n  ${dir}/public/index.html w,\n}\n`);
  const { rules } = readHatRules(join(dir, 'policy'), 'p', null);
  const t = translateHat(rules!, { abi: 7, isDirectory: (path) => path === join(dir, 'public') ? true : path === join(dir, 'public', 'index.html') ? false : undefined });
  assert.deepEqual(t.paths.map((p) => p.path), [join(dir, 'public'), join(dir, 'public', 'index.html')]);
});

test('property: every allow rule but owner rules is covered by a grant with its rights, or narrowed with an entry naming it', () => {
  const segment = fc.constantFrom('srv', 'www', 'a', 'b', '*', '**', '*.html', '{a,b}', '[ab]', 'x?');
  const pattern = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`);
  const rule = fc.record({ pattern, perms: fc.constantFrom('r', 'w', 'rw', 'ix', 'mr', 'a', 'rwl', 'k') , deny: fc.boolean(), owner: fc.boolean() });
  fc.assert(fc.property(fc.array(rule, { maxLength: 8 }), fc.integer({ min: 1, max: 9 }), (raw, abi) => {
    const files = raw.map((r, i) => ({ ...r, source: { file: '/p', line: i + 1, col: 1 }, text: r.pattern }));
    const t = translateHat({ label: 'p', files, others: [] }, { abi, isDirectory: () => true });
    for (const r of files.filter((f) => !f.deny && !f.owner)) {
      const wanted = rightsOf(r.perms);
      for (const option of expandAlternations(r.pattern) ?? [r.pattern.slice(0, r.pattern.indexOf('{'))]) {
        const cover = coveringPath(option).path;
        const narrowed = t.narrowing.some((n) => n.kind === 'glob' && n.source === `/p:${r.source.line}`);
        for (const right of wanted) {
          if (narrowed) continue;
          assert.ok(t.paths.some((p) => p[right] && (p.path === '/' || cover === p.path || cover.startsWith(`${p.path}/`))), `${r.pattern} ${r.perms}: no ${right} grant covers ${cover}`);
        }
      }
    }
    // what Landlock cannot express is always reported
    if (files.some((f) => f.deny && rightsOf(f.perms).length)) assert.ok(t.widening.length > 0);
    assert.ok(t.widening.some((w) => w.kind === 'metadata'));
  }), { numRuns: 400 });
});

test('a hat path that is a symlink out of the hat is not granted; one that stays inside is granted on its real path', () => {
  const dir = scratchDir('symlinks');
  mkdirSync(join(dir, 'bob', 'real'), { recursive: true });
  mkdirSync(join(dir, 'alice'), { recursive: true });
  symlinkSync(join(dir, 'alice'), join(dir, 'bob', 'uploads'));
  symlinkSync(join(dir, 'bob', 'real'), join(dir, 'bob', 'current'));
  writeFileSync(join(dir, 'policy'), `profile p {\n  ${dir}/bob/uploads/** r,\n  ${dir}/bob/current/** r,\n  ${dir}/bob/real/** r,\n}\n`);
  const { rules } = readHatRules(join(dir, 'policy'), 'p', null);
  const t = translateHat(rules!, { abi: 7, isDirectory: (p) => { try { return statSync(p).isDirectory(); } catch { return undefined; } }, realpath: (p) => { try { return realpathSync(p); } catch { return undefined; } }, oracle: aareWideningOracle() });
  assert.deepEqual(t.paths.map((p) => p.path), [join(dir, 'bob', 'real')]);
  assert.ok(t.widening.some((w) => w.kind === 'symlink' && w.summary.startsWith(`${join(dir, 'bob', 'uploads')} is a symlink to ${join(dir, 'alice')}`)));
});

test('fail closed: owner rules and other processes\' /proc are narrowed by default; landlock.allowWidening brings the old grant back', () => {
  const base = `@{PROC}=/proc/\n@{pid}={[1-9],[1-9][0-9],[1-9][0-9][0-9]}\n@{HOME}=/home/*/ /root/\nprofile p {\n  owner @{HOME}/.Private/** mrixwlk,\n  @{PROC}/[1-9]*/environ r,\n  owner @{PROC}/@{pid}/maps r,\n  /proc/self/status r,\n  /srv/site/** r,\n}\n`;
  const reader = memoryFileReader({ '/etc/apparmor.d/abstractions/base': base });
  const { rules } = readHatRules('/etc/apparmor.d/abstractions/base', 'p', null, { reader });
  const kinds: Record<string, 'dir'> = { '/home': 'dir', '/root': 'dir', '/proc': 'dir', '/srv/site': 'dir' };
  const isDirectory = (path: string) => (kinds[path] ? true : undefined);
  const narrow = translateHat(rules!, { abi: 7, isDirectory, oracle: aareWideningOracle() });
  assert.deepEqual(narrow.paths.map((p) => p.path), ['/srv/site']);
  // only the entries the rules name, so /proc/self/net (every socket of the machine) stays closed
  assert.deepEqual(narrow.ownProc, ['r:/environ', 'r:/maps', 'r:/status']);
  assert.deepEqual(narrow.narrowing.map((n) => [n.kind, n.source]), [
    ['owner', '/etc/apparmor.d/abstractions/base:5'], ['owner', '/etc/apparmor.d/abstractions/base:5'],
  ]);
  assert.ok(!narrow.widening.some((w) => /\/home|\/proc/.test(w.summary)), JSON.stringify(narrow.widening));
  // the opt-in, by FILE:LINE (a trailing part of the path is enough) or by pattern
  const wide = translateHat(rules!, { abi: 7, isDirectory, oracle: aareWideningOracle(), allowWidening: ['abstractions/base:5', '/proc/[1-9]*/environ'] });
  // /root/.Private does not exist on this host: no grant (the launcher would skip it anyway)
  assert.deepEqual(wide.paths.map((p) => p.path).sort(), ['/home', '/proc', '/srv/site']);
  assert.deepEqual(wide.narrowing, []);
  assert.ok(wide.widening.some((w) => w.kind === 'owner' && /landlock.allowWidening/.test(w.summary)));
  assert.ok(wide.widening.some((w) => w.grant === '/proc' && /read beneath \/proc/.test(w.summary)), JSON.stringify(wide.widening));
});

test('own /proc: a glob beneath /proc/@{pid} is granted at its literal directory and reported; the whole directory only for /proc/@{pid}/**', () => {
  assert.deepEqual(ownProcEntry('/proc/[1-9]*/maps'), { path: '/maps', literal: true });
  assert.deepEqual(ownProcEntry('/proc/self/attr/apparmor/exec'), { path: '/attr/apparmor/exec', literal: true });
  assert.deepEqual(ownProcEntry('/proc/self/fd/*'), { path: '/fd', literal: false });
  assert.deepEqual(ownProcEntry('/proc/[1-9]*/**'), { path: '', literal: false });
  assert.deepEqual(ownProcEntry('/proc/self'), { path: '', literal: true });
  assert.deepEqual(ownProcEntry('/proc/self/../1/environ'), { path: '/nonexistent', literal: true });
});

/** A one-hat policy over the given rules, read as the server reads it. */
function hatOf(rules: string) {
  const { rules: hat } = readHatRules('/q', 'p', null, { reader: memoryFileReader({ '/q': `profile p {\n${rules}\n}\n` }) });
  return hat!;
}

test('a glob whose covering directory is / is matched against the existing paths: exactly its tree when the walk is small', () => {
  const host = memoryHost({
    '/home/u/examples/hosting/bob/secret.txt': 'file', '/home/u/examples/hosting/bob/public/index.html': 'file',
    '/home/u/examples/hosting/alice/secret.txt': 'file', '/etc/passwd': 'file',
  });
  const t = translateHat(hatOf('  /**/examples/hosting/bob/** r,'), { abi: 7, ...host, oracle: aareWideningOracle() });
  assert.deepEqual(t.paths, [{ path: '/home/u/examples/hosting/bob', read: true, write: false, exec: false }]);
  assert.equal(t.widening.some((w) => w.kind === 'glob'), false, JSON.stringify(t.widening));
  assert.deepEqual(t.narrowing.map((n) => n.kind), ['glob']);
  assert.match(t.narrowing[0]!.summary, /^\/\*\*\/examples\/hosting\/bob\/\*\* r: granted only on the 1 existing path it matches beneath \/, not on what is created later/);
});

test('a glob whose walk is too big is narrowed (not granted), saying how to opt in; allowWidening grants the covering directory as before', () => {
  const tree: Record<string, 'file'> = { '/home/u/examples/hosting/bob/secret.txt': 'file', '/home/u/examples/hosting/alice/secret.txt': 'file' };
  for (let i = 0; i < 10_050; i++) tree[`/usr/share/doc/f${i}`] = 'file';
  const host = memoryHost(tree);
  const hat = hatOf('  /**/examples/hosting/bob/** r,');
  const t = translateHat(hat, { abi: 7, ...host, oracle: aareWideningOracle() });
  assert.deepEqual(t.paths, []);
  assert.deepEqual(t.narrowing.map((n) => [n.kind, n.grant, n.source]), [['glob', '/', '/q:2']]);
  assert.match(t.narrowing[0]!.summary, /not granted \(Landlock would grant everything beneath \/; .*more than 10000 entries; allow it with landlock\.allowWidening/);
  const wide = translateHat(hat, { abi: 7, ...host, oracle: aareWideningOracle(), allowWidening: ['/**/examples/hosting/bob/**'] });
  assert.deepEqual(wide.paths, [{ path: '/', read: true, write: false, exec: false }]);
  assert.deepEqual(wide.narrowing, []);
  assert.ok(wide.widening.some((w) => w.kind === 'glob' && /^read beneath \/ for \/\*\*\/examples\/hosting\/bob\/\*\*: also grants e\.g\. \//.test(w.summary)), JSON.stringify(wide.widening));
});

test('cgi-bin/* is granted on each existing script, not on subdirectories or symlinks; a glob inside what the hat allows keeps its directory grant', () => {
  const host = memoryHost({
    '/srv/bob/cgi-bin/hello.cgi': 'file', '/srv/bob/cgi-bin/env.sh': 'file', '/srv/bob/cgi-bin/lib/helper.pl': 'file',
    '/srv/bob/cgi-bin/link': 'symlink', '/srv/alice/cgi-bin/x.cgi': 'file',
  });
  const t = translateHat(hatOf('  /srv/bob/cgi-bin/* rix,\n  /srv/bob/public/** r,\n  /srv/bob/public/*.html r,'), { abi: 7, ...host, oracle: aareWideningOracle() });
  assert.deepEqual(t.paths, [
    { path: '/srv/bob/cgi-bin/env.sh', read: true, write: false, exec: true },
    { path: '/srv/bob/cgi-bin/hello.cgi', read: true, write: false, exec: true },
  ]);
  assert.deepEqual(t.narrowing.map((n) => n.kind), ['glob']);
  assert.match(t.narrowing[0]!.summary, /granted only on the 2 existing paths .* 1 symlink not followed \(\/srv\/bob\/cgi-bin\/link\)/);
  // *.html beneath public/** adds nothing beyond the hat: no walk, the grant stays (public does not exist: skipped)
  assert.equal(t.narrowing.some((n) => /public/.test(n.summary)), false);
});

test('the host walk is bounded in depth and lists nothing beneath directories the pattern cannot reach', () => {
  const deep: Record<string, 'file'> = { [`/d${'/x'.repeat(40)}/bob/f`]: 'file', '/other/a/b/c': 'file' };
  const host = memoryHost(deep);
  const t = translateHat(hatOf('  /d/**/bob/f r,'), { abi: 7, ...host, oracle: aareWideningOracle() });
  assert.deepEqual(t.paths, []);
  assert.match(t.narrowing[0]!.summary, /deeper than 32 directories/);
  const shallow = memoryHost({ '/d/x/bob/f': 'file', '/other/a/b/c': 'file' });
  const s = translateHat(hatOf('  /d/**/bob/f r,'), { abi: 7, ...shallow, oracle: aareWideningOracle() });
  assert.deepEqual(s.paths.map((p) => p.path), ['/d/x/bob/f']);
  // /d, /d/x, /d/x/bob: /other is never listed (the walk starts at the covering directory /d)
  assert.equal(shallow.listed(), 3);
});
