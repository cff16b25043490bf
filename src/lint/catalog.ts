// The rule set. Codes are stable (never renamed, only retired); docs/lint.md has one section per code
// with the anchor `lint-<name>` (what it finds, why it matters for a web server, how to fix it).
import type { LintRuleInfo } from './model.js';

export const LINT_RULES: readonly LintRuleInfo[] = [
  { code: 'lint/php-writable-code', severity: 'error', title: "a site's hat can write files it executes or PHP files it serves (write-xor-execute)", fixable: false, needsWeb: false },
  { code: 'lint/cross-site-glob', severity: 'error', title: "a site's hat has a rule that reaches another site's area", fixable: false, needsWeb: true },
  { code: 'lint/missing-hat', severity: 'error', title: 'Apache, PHP-FPM or hatter.yaml names a hat that does not exist', fixable: false, needsWeb: true },
  { code: 'lint/hat-not-allowed', severity: 'error', title: "a PHP-FPM pool's hat exists but the master's profile has no change_profile rule for it", fixable: false, needsWeb: true },
  { code: 'lint/unreachable-hat', severity: 'warning', title: 'a hat no request or pool of the web configuration can enter', fixable: false, needsWeb: true },
  { code: 'lint/null-leftover', severity: 'warning', title: 'a rule or hat for a //null- learning profile left behind after profiling', fixable: true, needsWeb: false },
  { code: 'lint/shell-inherit', severity: 'error', title: 'ix (inherit) on a shell inside a hat', fixable: false, needsWeb: false },
  { code: 'lint/unconfined-exec', severity: 'error', title: 'ux/Ux (or a pux/cux fallback) or change_profile to unconfined', fixable: false, needsWeb: false },
  { code: 'lint/dangerous-capability', severity: 'error', title: "a capability in a site's hat that defeats file permissions or confinement", fixable: false, needsWeb: false },
  { code: 'lint/shared-tmp', severity: 'warning', title: 'writes to /tmp, /var/tmp or /dev/shm without owner in a hat', fixable: true, needsWeb: false },
  { code: 'lint/broad-change-profile', severity: 'warning', title: 'change_profile that reaches beyond the hats and children it is for', fixable: false, needsWeb: false },
  { code: 'lint/read-all-files', severity: 'error', title: 'a hat that may read (or write) every file: /** r, file, or all', fixable: false, needsWeb: false },
  { code: 'lint/any-peer-ipc', severity: 'warning', title: 'signal or ptrace in a hat without peer=: every process is a peer', fixable: false, needsWeb: false },
  { code: 'lint/network-any-family', severity: 'warning', title: 'network in a hat without an address family (raw, packet and netlink sockets too)', fixable: false, needsWeb: false },
  { code: 'lint/broad-abstraction', severity: 'warning', title: 'a hat includes an abstraction meant for desktop programs or administrators', fixable: false, needsWeb: false },
  { code: 'lint/complain-hat', severity: 'info', title: 'a hat in complain mode: nothing it does is denied', fixable: false, needsWeb: false },
  { code: 'lint/deprecated-include', severity: 'warning', title: "'#include', the deprecated spelling of 'include'", fixable: true, needsWeb: false },
  { code: 'lint/missing-abi', severity: 'info', title: 'a profile file without an abi rule', fixable: false, needsWeb: false },
  { code: 'lint/suppression-without-reason', severity: 'warning', title: 'a hatter-lint suppression comment without a reason (or naming no known rule)', fixable: false, needsWeb: false },
];

export const LINT_RULE_BY_CODE: ReadonlyMap<string, LintRuleInfo> = new Map(LINT_RULES.map((r) => [r.code, r]));

/** The docs/lint.md anchor of a code: `lint/shared-tmp` → `lint-shared-tmp`. */
export function ruleAnchor(code: string): string {
  return code.replace('/', '-');
}
