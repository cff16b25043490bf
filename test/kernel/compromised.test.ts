// The compromised-site suite on a real AppArmor kernel (part of `npm run test:kernel`; issue #17 item
// 10): in one boot of a stock Debian kernel, `hatter serve --backend apparmor --load-policy` serves the
// escape fixtures' two sites, bob's site runs the code the suite sends (test/escape/compromised.ts),
// and every attack must be blocked, as under Landlock (test/escape/compromised.test.ts). The tree is
// prepared here on the host (cc and chown need root here, and are slow under emulation); the guest runs
// `node dist/test/escape/compromised.js run` (from the checkout: it finds the fixtures there) and writes one result per attack. A boot of its own, so a
// slow serve boot (test/kernel/serve.test.ts) cannot time this one out, nor the reverse.
// Infrastructure problems (no qemu, no kernel package, boot failure, timeout) skip with one line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInVm, unavailableReason, type VmResult } from './harness/vm.js';
import { compiledRoot, repoRoot } from '../support/repo.js';
import { ATTACKS, cleanTree, prepareTreeFile, type AttackResult, type PreparedTree } from '../escape/compromised.js';

const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
const unavailable = process.env.HATTER_SKIP_KERNEL ? 'skipped: HATTER_SKIP_KERNEL is set'
  : process.getuid?.() !== 0 ? 'the compromised-site suite needs root on the host (it chowns alice\'s tree)' : unavailableReason();

describe('compromised site on a real AppArmor kernel', { skip: unavailable ?? false }, () => {
  let work = '';
  let vm: VmResult | undefined;
  let tree: PreparedTree | undefined;
  let prepareError: string | undefined;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'hatter-kcompromised-'));
    try {
      tree = prepareTreeFile(join(work, 'compromised'));
    } catch (error) {
      prepareError = (error as Error).message;
      return;
    }
    const script = `set -u
echo "$(date +%T) kernel $(uname -r)"
echo "hatter-kserve: begin compromised" > /dev/kmsg
cd ${q(repoRoot)}
# the guest is emulated (TCG, one CPU, ~10x slower than the host): probes wait 3x longer (compromised.ts)
HATTER_PROBE_TIME_SCALE=3 node ${q(join(compiledRoot, 'test', 'escape', 'compromised.js'))} run --work ${q(tree.work)} --backend apparmor --load-policy --out ${q(join(work, 'results.json'))} > ${q(join(work, 'guest.out'))} 2>&1
echo "$(date +%T) compromised: exit $?"
echo guest-done
`;
    writeFileSync(join(work, 'guest.sh'), script);
    vm = await runInVm(script, { shares: [work], cwd: work, timeoutMs: 12 * 60_000 });
    writeFileSync(join(work, 'dmesg.log'), vm.dmesg);
    process.stdout.write(`# compromised-site VM: ${vm.status} (${vm.kernel}) in ${(vm.durationMs / 1000).toFixed(1)} s${vm.reason ? `: ${vm.reason}` : ''}\n`);
  }, { timeout: 15 * 60_000 });
  after(() => {
    if (tree) cleanTree(tree);
    if (work && !process.env.HATTER_KEEP_KERNEL_WORK) rmSync(work, { recursive: true, force: true });
  });

  const results = (): Map<string, AttackResult> => {
    const file = join(work, 'results.json');
    assert.ok(existsSync(file), `the guest wrote no results.json; guest stdout:\n${vm?.stdout}\nits output:\n${existsSync(join(work, 'guest.out')) ? readFileSync(join(work, 'guest.out'), 'utf8').slice(-4000) : '(none)'}`);
    return new Map((JSON.parse(readFileSync(file, 'utf8')) as AttackResult[]).map((r) => [r.id, r]));
  };

  // strict mode is Landlock-only (see runCompromisedSuite)
  for (const attack of ATTACKS.filter((a) => a.server !== 'strict')) {
    test(`under AppArmor: [${attack.item}] ${attack.title}`, (t) => {
      if (prepareError) { t.skip(`the compromised-site tree could not be prepared: ${prepareError}`); return; }
      if (!vm || vm.status !== 'ok') { t.skip(`skipped: the kernel VM did not run (${vm?.status ?? 'not started'}: ${vm?.reason ?? ''})`); return; }
      const result = results().get(attack.id);
      assert.ok(result, `attack ${attack.id} did not run in the guest`);
      t.diagnostic(`${attack.id}: ${result.detail}`);
      assert.ok(result.blocked, `${attack.control ? 'control' : 'attack'} ${attack.id}: ${result.detail}`);
    });
  }
});
