// hatter learn end to end on files in a scratch directory: proposals, answers, the dry-run diff, the
// validated write, learning again, and bad input (exit 2, nothing written).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

const POLICY = `# php-fpm and its pools
profile php-fpm /usr/sbin/php-fpm* flags=(complain) {
  /etc/php/** r,

  ^alice {
    /srv/www/alice/** r,
  }
}
`;

let serial = 1;
const avc = (fields: string) => `type=AVC msg=audit(1765000000.${String(serial).padStart(3, '0')}:${serial++}): apparmor="ALLOWED" ${fields}`;
const LOG = [
  avc('operation="change_profile" class="file" profile="php-fpm" name="php-fpm//myblog" pid=5 comm="php-fpm" target="php-fpm//myblog"'),
  avc('operation="open" class="file" profile="php-fpm//null-myblog" name="/srv/www/myblog/index.php" pid=6 comm="php-fpm" requested_mask="r" denied_mask="r" fsuid=33 ouid=0'),
  avc('operation="exec" class="file" profile="php-fpm//null-myblog" name="/usr/bin/dash" pid=6 comm="php-fpm" requested_mask="x" denied_mask="x" fsuid=33 ouid=0 target="php-fpm//null-myblog//null-/usr/bin/dash"'),
  avc('operation="signal" class="signal" profile="php-fpm" pid=5 comm="php-fpm" requested_mask="send" denied_mask="send" signal=quit peer="php-fpm//null-myblog"'),
  avc('operation="open" class="file" profile="php-fpm//null-myblog" name="/srv/www/shared/logo.png" pid=6 comm="php-fpm" requested_mask="r" denied_mask="r" fsuid=33 ouid=0'),
].join('\n') + '\n';
const TENANTS = ['--tenant', 'myblog=/srv/www/myblog', '--tenant', 'alice=/srv/www/alice'];

function scratch(policy = POLICY, log = LOG): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-learn-'));
  writeFileSync(join(dir, 'php-fpm'), policy);
  writeFileSync(join(dir, 'audit.log'), log);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('--json lists the groups with alternatives, witnesses and the fix-ups; nothing is written', async () => {
  const { dir, done } = scratch();
  try {
    const r = await runCli(['learn', '--json', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { groups: { id: string; title: string; profile: string; defaultIndex: number; alternatives: { kind: string; rules: string[]; crossesTenant?: { subject: string } }[] }[]; complainProfiles: string[] };
    const titles = out.groups.map((g) => g.title);
    assert.ok(titles.includes('missing hat myblog in php-fpm (logged as php-fpm//null-myblog)'), titles.join('\n'));
    assert.ok(titles.includes('change_profile to php-fpm//myblog'));
    const logo = out.groups.find((g) => g.title === 'r on /srv/www/shared/logo.png')!;
    assert.equal(logo.profile, 'php-fpm//myblog');
    // /srv/www/shared/* stays out of alice's area: no alternative crosses.
    assert.ok(logo.alternatives.every((a) => !a.crossesTenant));
    assert.deepEqual(out.complainProfiles, ['php-fpm']);
    assert.equal(readFileSync(join(dir, 'php-fpm'), 'utf8'), POLICY);
  } finally { done(); }
});

test('--apply --dry-run shows the diff and writes nothing; --write writes with a backup; learning again proposes nothing', async () => {
  const { dir, done } = scratch();
  try {
    const dry = await runCli(['learn', '--apply', '--dry-run', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir });
    assert.equal(dry.code, 1, dry.stderr);
    assert.match(dry.stdout, /^\+  change_profile -> php-fpm\/\/\*,$/m);
    assert.match(dry.stdout, /^\+  signal \(send\) peer=php-fpm\/\/\*,$/m);
    assert.match(dry.stdout, /^\+  \^myblog flags=\(complain\) \{$/m);
    assert.match(dry.stdout, /^\+    \/usr\/bin\/dash ix,$/m);
    assert.equal(readFileSync(join(dir, 'php-fpm'), 'utf8'), POLICY);

    const write = await runCli(['learn', '--apply', '--write', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir });
    assert.equal(write.code, 0, write.stderr);
    assert.match(write.stdout, /wrote .*php-fpm \(backup /);
    assert.match(write.stdout, /load the change into the kernel with: apparmor_parser -r .*php-fpm/);
    assert.match(write.stdout, /in complain mode: php-fpm, php-fpm\/\/myblog/);
    const after = readFileSync(join(dir, 'php-fpm'), 'utf8');
    assert.ok(after.startsWith('# php-fpm and its pools\n'), 'comment kept');
    assert.ok(readdirSync(dir).some((f) => f.startsWith('.php-fpm')), 'backup written');

    const again = await runCli(['learn', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^0 groups from 0 events/m);
  } finally { done(); }
});

test('--answers: a child profile for the helper; answers naming unknown groups are refused', async () => {
  const { dir, done } = scratch();
  try {
    const listed = JSON.parse((await runCli(['learn', '--json', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir })).stdout) as { groups: { id: string; class: string; title: string; alternatives: { kind: string; rules: string[]; crossesTenant?: { subject: string; message: string } }[] }[] };
    const exec = listed.groups.find((g) => g.class === 'exec')!;
    writeFileSync(join(dir, 'answers.json'), JSON.stringify({ answers: [{ group: exec.id, action: 'accept', alternative: exec.alternatives.findIndex((a) => a.kind === 'child') }] }));
    const child = await runCli(['learn', '--answers', 'answers.json', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir });
    assert.equal(child.code, 1, child.stderr);
    assert.match(child.stdout, /^\+    \/usr\/bin\/dash Px -> php-fpm\/\/myblogdash,$/m);
    assert.match(child.stdout, /^\+  profile myblogdash flags=\(complain\) \{$/m);

    const index = listed.groups.find((g) => g.title === 'r on /srv/www/myblog/index.php')!;
    assert.ok(index.alternatives.some((a) => a.rules[0] === '/srv/www/myblog/** r' && !a.crossesTenant), 'the site glob stays in its own area');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify([{ group: 'g404', action: 'accept' }]));
    const bad = await runCli(['learn', '--answers', 'bad.json', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /learn\/unknown-group/);
  } finally { done(); }
});

test('a glob from one site into another is refused with its witness, and accepted only with "override"', async () => {
  const log = `${avc('operation="open" class="file" profile="php-fpm//alice" name="/srv/www/common.css" pid=6 comm="php-fpm" requested_mask="r" denied_mask="r" fsuid=33 ouid=0')}\n`;
  const { dir, done } = scratch(POLICY.replace('^alice {', '^myblog {\n  }\n\n  ^alice {'), log);
  try {
    const listed = JSON.parse((await runCli(['learn', '--json', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir })).stdout) as { groups: { id: string; alternatives: { rules: string[]; crossesTenant?: { subject: string; message: string } }[] }[] };
    const group = listed.groups[0]!;
    const index = group.alternatives.findIndex((a) => a.rules[0] === '/srv/www/* r');
    assert.equal(group.alternatives[index]!.crossesTenant?.subject, '/srv/www/myblog');
    writeFileSync(join(dir, 'a.json'), JSON.stringify([{ group: group.id, action: 'accept', alternative: index }]));
    const refused = await runCli(['learn', '--answers', 'a.json', '--write', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /grants r on \/srv\/www\/myblog, in myblog's area; refused \[learn\/crosses-tenant\]/);
    assert.equal(readFileSync(join(dir, 'php-fpm'), 'utf8'), POLICY.replace('^alice {', '^myblog {\n  }\n\n  ^alice {'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify([{ group: group.id, action: 'accept', alternative: index, override: true }]));
    const forced = await runCli(['learn', '--answers', 'a.json', '--policy', 'php-fpm', ...TENANTS, 'audit.log'], { cwd: dir });
    assert.equal(forced.code, 1, forced.stderr);
    assert.match(forced.stdout, /^\+    \/srv\/www\/\* r,$/m);
  } finally { done(); }
});

test('bad input: no AppArmor lines, only unknown profiles, a policy that does not check: exit 2, nothing written', async () => {
  const { dir, done } = scratch();
  try {
    writeFileSync(join(dir, 'plain.log'), 'Dec  7 02:00:00 host sshd[1]: Accepted publickey for root\n');
    const none = await runCli(['learn', '--apply', '--write', '--policy', 'php-fpm', 'plain.log'], { cwd: dir });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no AppArmor audit lines in plain\.log \[learn\/no-events\]/);

    writeFileSync(join(dir, 'nginx.log'), `${avc('operation="open" class="file" profile="nginx" name="/etc/nginx/nginx.conf" pid=1 comm="nginx" requested_mask="r" denied_mask="r" fsuid=0 ouid=0')}\n`);
    const unknown = await runCli(['learn', '--apply', '--write', '--policy', 'php-fpm', 'nginx.log'], { cwd: dir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /'nginx', which php-fpm does not define \(it defines php-fpm\) \[learn\/unknown-profile\]/);

    writeFileSync(join(dir, 'broken'), 'profile broken {\n  /x rw\n');
    const broken = await runCli(['learn', '--apply', '--write', '--policy', 'broken', 'audit.log'], { cwd: dir });
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /learn\/policy-does-not-check/);
    assert.equal(readFileSync(join(dir, 'broken'), 'utf8'), 'profile broken {\n  /x rw\n');
    assert.equal(readFileSync(join(dir, 'php-fpm'), 'utf8'), POLICY);
  } finally { done(); }
});

test('reads stdin with -, and usage errors exit 2', async () => {
  const { dir, done } = scratch();
  try {
    const r = await runCli(['learn', '--json', '--policy', 'php-fpm', '-'], { cwd: dir, stdin: LOG });
    assert.equal(r.code, 1, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { groups: unknown[] }).groups.length > 0);
    assert.equal((await runCli(['learn', 'audit.log'], { cwd: dir })).code, 2);
    assert.equal((await runCli(['learn', '--policy', 'php-fpm', '--write', '--dry-run', 'audit.log'], { cwd: dir })).code, 2);
  } finally { done(); }
});
