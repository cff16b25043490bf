// hatter learn --apply side by side with the reference tool, Debian's aa-logprof (apparmor-utils), on the
// same log and the same profile (issue #19, "Done when", third bullet): every access aa-logprof's answers
// allow must be allowed by hatter's result too, or be a difference docs/conformance.md explains.
//
// aa-logprof refuses to run without kernel AppArmor, which this machine lacks; the driver below runs its
// exact steps (/usr/sbin/aa-logprof: init_aa, loadincludes, read_profiles, do_logprof_pass) with the
// securityfs check answered by a scratch directory and the kernel reload skipped, and answers each
// question in its JSON dialogue as a person accepting its suggestions would: Allow with the exact rule
// (not an abstraction), Inherit for exec, then Save.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { needsFromEvents } from '../../src/learn/index.js';
import { parseLine, type AuditEvent } from '../../src/logs/index.js';
import { loadPolicy } from '../../src/policy/load/index.js';
import { compilePolicy } from '../../src/policy/eval/index.js';
import { nodeFileReader } from '../../src/policy-node/index.js';
import { runCli } from '../support/cli.js';

const PYTHON = '/usr/bin/python3';
const ETC = '/etc/apparmor.d';

function skipReason(): string | false {
  if (!existsSync('/usr/sbin/aa-logprof')) return 'skipped: aa-logprof not installed (apt-get install apparmor-utils)';
  if (!existsSync(join(ETC, 'abstractions', 'base'))) return `skipped: ${ETC}/abstractions absent`;
  const probe = spawnSync(PYTHON, ['-c', 'import apparmor.aa'], { encoding: 'utf8' });
  return probe.status === 0 ? false : 'skipped: the apparmor python module (python3-apparmor) is not importable';
}

const DRIVER = `
import json, sys
import apparmor.aa as apparmor
import apparmor.ui as aaui
profiledir, logfile, fake = sys.argv[1], sys.argv[2], sys.argv[3]
last = {}
def write_json(message):
    last.clear(); last.update(message)
    sys.stdout.write(json.dumps(message) + '\\n')
def json_response(dialog_type):
    if dialog_type == 'promptuser':
        menu = ' '.join(last.get('menu_items', []))
        options = last.get('options') or []
        if '(S)ave Changes' in menu:
            return {'dialog': dialog_type, 'response_key': 's', 'selected': 0}
        exact = [i for i, o in enumerate(options) if not o.startswith('include ')]
        key = 'a' if '(A)llow' in menu else 'i' if '(I)nherit' in menu else 'n'
        return {'dialog': dialog_type, 'response_key': key, 'selected': exact[-1] if exact else 0}
    if dialog_type in ('yesno', 'yesnocancel'):
        return {'dialog': dialog_type, 'response_key': 'y'}
    return {'dialog': dialog_type, 'response': ''}
aaui.set_json_mode()
aaui.write_json = write_json
aaui.json_response = json_response
apparmor.init_aa(profiledir=profiledir)
apparmor.set_logfile(logfile)
apparmor.check_for_apparmor = lambda *a, **k: fake
apparmor.reload_base = lambda *a, **k: None
apparmor.loadincludes()
apparmor.read_profiles(True)
apparmor.do_logprof_pass('')
`;

const PROFILE = `include <tunables/global>

/usr/sbin/web flags=(complain) {
  include <abstractions/base>
  /etc/web.conf r,

  ^alice flags=(complain) {
    /srv/www/alice/index.php r,
  }

  ^bob flags=(complain) {
  }
}
`;

/** A complain-mode session: files, owner files, capabilities, network, an exec in the profile, in both hats. */
const LOG = [
  'apparmor="ALLOWED" operation="open" profile="/usr/sbin/web" name="/var/lib/web/state.db" pid=4 comm="web" requested_mask="rw" denied_mask="rw" fsuid=33 ouid=33',
  'apparmor="ALLOWED" operation="open" profile="/usr/sbin/web" name="/etc/ssl/certs/ca-certificates.crt" pid=4 comm="web" requested_mask="r" denied_mask="r" fsuid=33 ouid=0',
  'apparmor="ALLOWED" operation="capable" profile="/usr/sbin/web" pid=4 comm="web" capability=6 capname="setgid"',
  'apparmor="ALLOWED" operation="capable" profile="/usr/sbin/web" pid=4 comm="web" capability=7 capname="setuid"',
  'apparmor="ALLOWED" operation="create" profile="/usr/sbin/web" pid=4 comm="web" family="inet" sock_type="stream" protocol=6 requested_mask="create" denied_mask="create"',
  'apparmor="ALLOWED" operation="exec" profile="/usr/sbin/web" name="/usr/bin/logger" pid=4 comm="web" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="/usr/sbin/web//null-/usr/bin/logger"',
  'apparmor="ALLOWED" operation="open" profile="/usr/sbin/web//alice" name="/srv/www/alice/uploads/a.jpg" pid=5 comm="web" requested_mask="r" denied_mask="r" fsuid=33 ouid=0',
  'apparmor="ALLOWED" operation="open" profile="/usr/sbin/web//alice" name="/srv/www/alice/cache/page.html" pid=5 comm="web" requested_mask="wc" denied_mask="wc" fsuid=33 ouid=33',
  'apparmor="ALLOWED" operation="file_lock" profile="/usr/sbin/web//alice" name="/srv/www/alice/data.db" pid=5 comm="web" requested_mask="k" denied_mask="k" fsuid=33 ouid=33',
  'apparmor="ALLOWED" operation="open" profile="/usr/sbin/web//bob" name="/srv/www/bob/index.php" pid=6 comm="web" requested_mask="r" denied_mask="r" fsuid=33 ouid=0',
  'apparmor="ALLOWED" operation="open" profile="/usr/sbin/web//bob" name="/tmp/sess_abc" pid=6 comm="web" requested_mask="rw" denied_mask="rw" fsuid=33 ouid=33',
].map((body, i) => `type=AVC msg=audit(1700000000.${String(i).padStart(3, '0')}:${100 + i}): ${body}`);

/** A scratch profile directory with Debian's tunables, abstractions and abi, and our profile. */
function profileDir(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const part of ['tunables', 'abstractions', 'abi']) if (existsSync(join(ETC, part))) cpSync(join(ETC, part), join(dir, part), { recursive: true });
  writeFileSync(join(dir, 'usr.sbin.web'), PROFILE);
  return dir;
}

function events(): AuditEvent[] {
  return LOG.map((line) => parseLine(line)).flatMap((r) => (r.kind === 'event' ? [r.event] : []));
}

/** The events a profile tree still needs (not allowed by its rules; complain-mode permits count as needs). */
function stillNeeded(dir: string, log: readonly AuditEvent[]): Set<number> {
  const loaded = loadPolicy(join(dir, 'usr.sbin.web'), nodeFileReader(), { includePaths: [dir] });
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}: ${d.message}`), []);
  const compiled = compilePolicy(loaded.resolved).compiled;
  const out = new Set<number>();
  log.forEach((event, i) => { if (needsFromEvents([event], compiled).length > 0) out.add(i); });
  return out;
}

/**
 * Accesses aa-logprof allows and hatter does not, that docs/conformance.md explains (by log line index).
 * The exec: aa-logprof's Inherit writes `/usr/bin/logger ix`; hatter's default for an exec is the same
 * unless the helper runs from a hat, so nothing is expected here today.
 */
const EXPLAINED: ReadonlyMap<number, string> = new Map();

test('hatter learn --apply allows every access aa-logprof\'s answers allow, on the same log and profile', { skip: skipReason(), timeout: 300_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hatter-aa-logprof-'));
  const log = join(root, 'audit.log');
  writeFileSync(log, `${LOG.join('\n')}\n`);
  writeFileSync(join(root, 'driver.py'), DRIVER);
  mkdirSync(join(root, 'securityfs'));

  const reference = profileDir(root, 'aa-logprof');
  const run = spawnSync(PYTHON, [join(root, 'driver.py'), reference, log, join(root, 'securityfs')], { encoding: 'utf8', timeout: 240_000, input: '' });
  assert.equal(run.status, 0, `aa-logprof driver failed:\n${run.stderr}\n${run.stdout.slice(-2000)}`);
  assert.notEqual(readFileSync(join(reference, 'usr.sbin.web'), 'utf8'), PROFILE, 'aa-logprof saved a changed profile');

  const ours = profileDir(root, 'hatter');
  const result = await runCli(['learn', log, '--policy', join(ours, 'usr.sbin.web'), '-I', ours, '--apply', '--write'], { cwd: root });
  assert.equal(result.code, 0, result.stderr);

  const parsed = events();
  assert.equal(parsed.length, LOG.length);
  const before = stillNeeded(profileDir(root, 'original'), parsed);
  const afterReference = stillNeeded(reference, parsed);
  const afterHatter = stillNeeded(ours, parsed);
  assert.ok(before.size === LOG.length, 'every logged access is a need before learning');
  const missing = [...afterHatter].filter((i) => !afterReference.has(i) && !EXPLAINED.has(i));
  assert.deepEqual(missing.map((i) => LOG[i]), [], `aa-logprof allows these and hatter does not:\n${readFileSync(join(ours, 'usr.sbin.web'), 'utf8')}`);
  // And the other direction, reported (not asserted): what hatter learned that aa-logprof's answers did not.
  const onlyHatter = [...afterReference].filter((i) => !afterHatter.has(i));
  t.diagnostic(`aa-logprof left ${afterReference.size} of ${LOG.length} accesses unlearned, hatter ${afterHatter.size}; only hatter learned: ${onlyHatter.join(', ') || 'none'}`);
});
