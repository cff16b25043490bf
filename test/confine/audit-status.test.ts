// hatter-launch --audit-status: the kernel audit's switch, read through netlink (AUDIT_GET), as serve
// --denials-log asks it before warning serve/landlock-audit-off. Reading needs root (CAP_AUDIT_CONTROL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { findLauncher, kernelAuditEnabled } from '../../src/confine/index.js';

const launcher = findLauncher();
const skip = !launcher ? 'skipped: the native launcher is not built' : process.getuid?.() !== 0 ? 'skipped: reading the audit switch needs root' : false;

test('the launcher reads the kernel audit switch and serve gets it as a boolean', { skip }, () => {
  const run = spawnSync(launcher!, ['--audit-status'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^audit-enabled [012]\n$/);
  assert.equal(kernelAuditEnabled(launcher), !run.stdout.includes('audit-enabled 0'));
});

test('without a launcher the switch is unknown, not off', () => {
  assert.equal(kernelAuditEnabled(undefined), undefined);
});
