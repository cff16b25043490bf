// A generated corpus of small profiles for the load-parity check: hatter check's verdict on each must
// match whether the guest kernel's apparmor_parser (Debian 12: 3.0.8) can load it with `-r`.
// Profiles stay inside the 3.0 language (`abi <abi/3.0>`) because the guest parser predates 4.x
// syntax (priority=, all, userns...); see docs/conformance.md.
import fc from 'fast-check';

export interface CorpusProfile {
  /** File name (also used as the profile name prefix, so loaded names never clash). */
  readonly name: string;
  readonly text: string;
  /** Extra files the profile includes (relative name → text), written next to it. */
  readonly includes: Readonly<Record<string, string>>;
  /** What the generator meant: a valid profile, or a specific mistake. */
  readonly intent: string;
}

const paths = ['/tmp/kc/a', '/tmp/kc/b/', '/tmp/kc/c/**', '/tmp/kc/d/*', '/tmp/kc/{e,f}', '/tmp/kc/g[0-9]', '/tmp/kc/h?', '@{KC}/v', '/tmp/kc/i/{,**}'];
const dataPerms = ['r', 'w', 'rw', 'a', 'rk', 'rwk', 'l', 'm', 'rwl', 'mr', 'ra'];
const execPerms = ['ix', 'px', 'Px', 'cx', 'Cx', 'ux', 'Ux', 'pix', 'cix', 'Pix', 'pux', 'mrix'];
const capabilities = ['chown', 'dac_override', 'net_bind_service', 'setuid', 'kill', 'sys_admin', 'fowner'];
const signals = ['hup', 'term', 'kill', 'usr1', 'int'];

interface Pieces {
  readonly rules: string[];
  readonly hats: number;
  readonly child: boolean;
  readonly useVariable: boolean;
  readonly useInclude: boolean;
  readonly useBoolean: boolean;
  readonly flags: string | null;
}

const ruleArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom('', 'owner ', 'audit ', 'deny ', 'audit deny '), fc.constantFrom(...paths), fc.constantFrom(...dataPerms))
    .map(([prefix, path, perms]) => `${prefix}${path} ${perms},`),
  fc.tuple(fc.constantFrom('', 'owner '), fc.constantFrom('/tmp/kc/bin/a', '/tmp/kc/bin/b', '/tmp/kc/x/y'), fc.constantFrom(...execPerms))
    .map(([prefix, path, perms]) => `${prefix}${path} ${perms},`),
  fc.tuple(fc.constantFrom('', 'deny ', 'audit '), fc.subarray(capabilities, { minLength: 1, maxLength: 3 }))
    .map(([prefix, caps]) => `${prefix}capability ${caps.join(' ')},`),
  fc.constantFrom('network inet stream,', 'network inet6 dgram,', 'network unix,', 'network,', 'deny network raw,'),
  fc.tuple(fc.constantFrom('send', 'receive', '(send, receive)'), fc.subarray(signals, { minLength: 1, maxLength: 2 }))
    .map(([access, set]) => `signal ${access} set=(${set.join(', ')}) peer=kc-*,`),
  fc.constantFrom('ptrace (read) peer=kc-*,', 'unix (send, receive) type=stream,', 'change_profile -> kc-*,',
    'set rlimit nofile <= 1024,', 'set rlimit as <= 1G,', 'dbus send bus=system path=/org/kc,', 'mount options=(ro) /dev/kc -> /mnt/kc/,',
    'umount /mnt/kc/,', 'link /tmp/kc/l1 -> /tmp/kc/t1,', 'link subset /tmp/kc/l* -> /tmp/kc/**,', 'file,',
    '/tmp/kc/m{1,2,3} r,', 'rw /tmp/kc/leading,'),
);

const piecesArbitrary: fc.Arbitrary<Pieces> = fc.record({
  rules: fc.array(ruleArbitrary, { minLength: 1, maxLength: 8 }),
  hats: fc.integer({ min: 0, max: 3 }),
  child: fc.boolean(),
  useVariable: fc.boolean(),
  useInclude: fc.boolean(),
  useBoolean: fc.boolean(),
  flags: fc.constantFrom(null, 'complain', 'audit', 'attach_disconnected', 'complain,audit'),
});

/** Mistakes apparmor_parser 3.0.8 rejects, each as a rule or a transformation of the profile. */
const mistakes: readonly { intent: string; rule?: string; transform?: (text: string) => string }[] = [
  { intent: 'w-and-a', rule: '/tmp/kc/wa wa,' },
  { intent: 'unknown-capability', rule: 'capability frobnicate,' },
  { intent: 'bare-x-in-allow', rule: '/tmp/kc/bx x,' },
  { intent: 'qualified-x-in-deny', rule: 'deny /tmp/kc/dx px,' },
  { intent: 'two-exec-modes', rule: '/tmp/kc/two ixpx,' },
  { intent: 'conflicting-exec-exact', rule: '/tmp/kc/bin/same ix,\n  /tmp/kc/bin/same px,' },
  { intent: 'conflicting-exec-globs', rule: '/tmp/kc/gl/* ix,\n  /tmp/kc/gl/** px,' },
  { intent: 'missing-comma', rule: '/tmp/kc/nocomma r' },
  { intent: 'unbalanced-brace', rule: '/tmp/kc/{a,b r,' },
  { intent: 'unbalanced-bracket', rule: '/tmp/kc/[ab r,' },
  { intent: 'undefined-variable', rule: '@{KC_UNDEFINED}/x r,' },
  { intent: 'owner-on-capability', rule: 'owner capability chown,' },
  { intent: 'unknown-signal', rule: 'signal send set=(frob),' },
  { intent: 'unknown-network-family', rule: 'network frobnet stream,' },
  { intent: 'unknown-rlimit', rule: 'set rlimit frob <= 10,' },
  { intent: 'missing-include', rule: 'include <kc-does-not-exist>' },
  { intent: 'ix-with-target', rule: '/tmp/kc/tg ix -> kc-other,' },
  { intent: 'unknown-keyword', rule: 'frobnicate /tmp/kc/x,' },
  { intent: 'empty-alternation', rule: '/tmp/kc/{a} r,' },
  { intent: 'duplicate-hat', transform: (text) => text.replace(/\n}\n?$/, '\n  ^dup {\n  }\n  ^dup {\n  }\n}\n') },
  { intent: 'two-profile-modes', transform: (text) => text.replace(/(profile \S+)( flags=\([^)]*\))? \{/, '$1 flags=(complain, kill) {') },
  { intent: 'trailing-backslash', rule: '/tmp/kc/bs\\ r,' },
];

function render(name: string, pieces: Pieces): { text: string; includes: Record<string, string> } {
  const includes: Record<string, string> = {};
  const lines = ['abi <abi/3.0>,', ''];
  if (pieces.useVariable) lines.push('@{KC} = /tmp/kc/var1 /tmp/kc/var2', '@{KC} += /tmp/kc/var3');
  else lines.push('@{KC} = /tmp/kc/var');
  if (pieces.useBoolean) lines.push('${KC_ON} = true');
  lines.push('');
  const flags = pieces.flags ? ` flags=(${pieces.flags})` : '';
  lines.push(`profile ${name}${flags} {`);
  // The conditional comes first: apparmor_parser 3.0.8 fails silently (exit 10) on an `if` block that
  // follows a network rule (see docs/conformance.md, real kernel).
  if (pieces.useBoolean) lines.push('  if $KC_ON {', '    /tmp/kc/conditional r,', '  } else {', '    /tmp/kc/never w,', '  }');
  for (const rule of pieces.rules) lines.push(`  ${rule}`);
  if (pieces.useInclude) {
    const file = `${name}.inc`;
    includes[file] = '# generated include\n/tmp/kc/included r,\ncapability setgid,\n';
    lines.push(`  include "${file}"`);
  }
  for (let h = 0; h < pieces.hats; h++) {
    lines.push(`  ^hat${h} {`, `    /tmp/kc/hat${h}/** rw,`, `    ${pieces.rules[h % pieces.rules.length]}`, '  }');
  }
  if (pieces.child) lines.push(`  profile child /tmp/kc/bin/child {`, '    /tmp/kc/child/** r,', '  }');
  lines.push('}', '');
  return { text: lines.join('\n'), includes };
}

/** The corpus: `count` profiles, about a third of them carrying one deliberate mistake. Deterministic per seed. */
export function generatePolicyCorpus(count = 320, seed = 20261122): CorpusProfile[] {
  const samples = fc.sample(fc.tuple(piecesArbitrary, fc.integer({ min: 0, max: 2 }), fc.nat()), { numRuns: count, seed });
  return samples.map(([pieces, kind, pick], index) => {
    const name = `kc-${String(index).padStart(3, '0')}`;
    if (kind !== 0) {
      const { text, includes } = render(name, pieces);
      return { name, text, includes, intent: 'valid' };
    }
    const mistake = mistakes[pick % mistakes.length]!;
    const base = mistake.rule ? { ...pieces, rules: [...pieces.rules, mistake.rule] } : pieces;
    const { text, includes } = render(name, base);
    return { name, text: mistake.transform ? mistake.transform(text) : text, includes, intent: mistake.intent };
  });
}
