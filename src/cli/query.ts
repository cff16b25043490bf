// `hatter query`: what would the kernel decide for one access by one profile or hat, and which rules
// decided it.
import { createCompileCache, decide, UnknownRequestError, type AccessRequest, type BitDecision, type Decision } from '../policy/eval/index.js';
import type { RuleRef } from '../policy/resolve/index.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type Command } from './io.js';
import { loadCompiledPolicy, printDiagnostics, readFeatures } from './load-policy.js';
import { commandCacheStore } from './cache-store.js';

const HELP = `Usage: hatter query [-I DIR]... [--features FILE] --policy FILE --profile NAME[//HAT] REQUEST [--json]

Ask what a profile, hat or child profile allows, offline, exactly as the kernel would decide it
(deny, owner, priority, exact-versus-glob exec, implied m, audit and quiet, the profile mode), and
which rules decided it (file:line:col through includes).

Requests (one per call):
  --file PATH --perm PERMS [--owner|--other]   file access; PERMS from r w a l k m x (default --other)
  --link PATH --target PATH [--owner|--other]   creating hard link PATH to TARGET
  --capability NAME                            e.g. dac_override, net_bind_service
  --signal SIG --peer LABEL [--access send|receive]
  --ptrace --peer LABEL [--access read|trace|readby|tracedby]
  --network FAMILY [TYPE] [--access ACCESS]    e.g. --network inet stream
  --change-profile TARGET [--exec PATH]

Options:
  --policy FILE        the policy file (resolved with its includes)
  --profile LABEL      profile, hat or child: apache2, apache2//DEFAULT_URI, php-fpm//www
  -I, --include DIR    include search path (default /etc/apparmor.d); repeatable
  --features FILE      kernel feature set the policy is checked against
  --json               the decision as JSON
  --no-cache           neither read nor write the compile cache (docs/cache.md)
  -h, --help           show this help

Examples:
  hatter query --policy /etc/apparmor.d/usr.sbin.apache2 --profile apache2//alice.example \\
      --file /srv/www/bob/wp-config.php --perm r
  hatter query --policy examples/policy/usr.sbin.apache2-sites --profile apache2-sites//bob.localhost \\
      --file /srv/www/alice/secret.txt --perm r --json
  hatter query --policy ./php-fpm --profile php-fpm --capability setuid
  hatter query --policy ./p --profile p --network inet stream --access connect

Exit status: 0 every requested permission allowed, 1 some permission denied, 2 usage error,
unknown profile or permission, or a policy apparmor_parser would reject.`;

function ruleText(rule: RuleRef): string {
  const chain = rule.includeChain.length ? ` (via ${rule.includeChain.map((c) => `${c.file}:${c.line}`).join(' → ')})` : '';
  return `${rule.file}:${rule.line}:${rule.col}${chain}`;
}

function bitLine(bit: BitDecision): string {
  const verdict = bit.allowed ? 'allowed' : 'denied';
  const why = bit.outcome === 'unmatched' ? 'no rule matched'
    : `${bit.implied ? 'implied by ix, ' : ''}${bit.outcome} by ${bit.rules.map(ruleText).join(', ')}`;
  const log = bit.log === 'none' ? '' : `; logged: ${bit.log}`;
  return `  ${bit.bit.padEnd(6)} ${verdict.padEnd(8)} ${why}${log}`;
}

function describe(decision: Decision, request: AccessRequest): string {
  const object = request.class === 'file' ? `file ${request.path}${request.owner ? ' (owner)' : ''}`
    : request.class === 'link' ? `link ${request.path} -> ${request.target}`
      : request.class === 'capability' ? `capability ${request.name}`
        : request.class === 'change_profile' ? `change_profile -> ${request.target}`
          : `${request.class} ${Object.entries(request.fields).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  const lines = [`${decision.label} (${decision.mode}): ${object}: ${decision.allowed ? 'ALLOWED' : 'DENIED'}`];
  for (const bit of decision.bits) lines.push(bitLine(bit));
  if (decision.exec) lines.push(`  exec: ${decision.exec.mode.text}${decision.exec.target ? ` -> ${decision.exec.target}` : ''}`);
  for (const note of decision.notes) lines.push(`  note: ${note}`);
  return `${lines.join('\n')}\n`;
}

function decisionJson(decision: Decision, request: AccessRequest): unknown {
  // Decisions may explain themselves lazily (toJSON gives the plain data).
  return { request, ...(JSON.parse(JSON.stringify(decision)) as Decision) };
}

export const command: Command = {
  name: 'query',
  summary: 'ask what a profile or hat allows, and which rules decide it',
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, {
      policy: { type: 'string' }, profile: { type: 'string' },
      include: { type: 'string', short: 'I', multiple: true }, features: { type: 'string' },
      file: { type: 'string' }, perm: { type: 'string' }, owner: { type: 'boolean' }, other: { type: 'boolean' },
      link: { type: 'string' }, target: { type: 'string' },
      capability: { type: 'string' }, signal: { type: 'string' }, peer: { type: 'string' }, access: { type: 'string', multiple: true },
      ptrace: { type: 'boolean' }, network: { type: 'string' }, 'change-profile': { type: 'string' }, exec: { type: 'string' },
      json: { type: 'boolean' }, 'no-cache': { type: 'boolean' },
    });
    if (!values.policy) throw new UsageError('--policy FILE is required');
    if (!values.profile) throw new UsageError('--profile NAME[//HAT] is required');
    if (values.owner && values.other) throw new UsageError('--owner and --other exclude each other');
    const access = values.access ?? [];
    const requests: AccessRequest[] = [];
    if (values.file !== undefined) {
      if (!values.perm) throw new UsageError('--file needs --perm (e.g. --perm r)');
      requests.push({ class: 'file', path: values.file, permissions: values.perm, owner: Boolean(values.owner) });
    }
    if (values.link !== undefined) {
      if (!values.target) throw new UsageError('--link needs --target PATH');
      requests.push({ class: 'link', path: values.link, target: values.target, owner: Boolean(values.owner) });
    }
    if (values.capability !== undefined) requests.push({ class: 'capability', name: values.capability });
    if (values.signal !== undefined) {
      if (!values.peer) throw new UsageError('--signal needs --peer LABEL');
      requests.push({ class: 'signal', access: access.length ? access : ['send'], fields: { signal: values.signal.toLowerCase().replace(/^sig/, ''), peer: values.peer } });
    }
    if (values.ptrace) {
      if (!values.peer) throw new UsageError('--ptrace needs --peer LABEL');
      requests.push({ class: 'ptrace', access: access.length ? access : ['trace'], fields: { peer: values.peer } });
    }
    if (values.network !== undefined) {
      const [type] = positionals;
      requests.push({ class: 'network', access: access.length ? access : ['create'], fields: { family: values.network, ...(type ? { type } : {}) } });
    } else if (positionals.length) {
      throw new UsageError(`unexpected argument '${positionals[0]}'`);
    }
    if (values['change-profile'] !== undefined) {
      requests.push({ class: 'change_profile', target: values['change-profile'], ...(values.exec ? { exec: values.exec } : {}) });
    }
    if (requests.length !== 1) throw new UsageError(requests.length ? 'ask one request per call' : 'no request given (e.g. --file PATH --perm r; see --help)');
    const request = requests[0]!;

    const compileCache = createCompileCache({ store: commandCacheStore(io, values['no-cache']) });
    const loaded = await loadCompiledPolicy(io, { file: values.policy }, { includeDirs: values.include ?? [], features: await readFeatures(io, values.features), compileCache });
    if (!loaded.ok) {
      printDiagnostics(io, loaded.diagnostics);
      const unreadable = loaded.diagnostics.some((d) => d.code.endsWith('unreadable-input') || d.code === 'query/unreadable');
      io.stderr.write(`hatter query: ${values.policy} ${unreadable ? 'cannot be read' : 'does not compile (apparmor_parser would reject it)'}\n`);
      return EXIT_USAGE;
    }
    printDiagnostics(io, loaded.warnings);
    let decision: Decision;
    try {
      decision = decide(loaded.compiled, values.profile, request);
    } catch (error) {
      if (error instanceof UnknownRequestError) {
        io.stderr.write(`hatter query: ${error.message}\n`);
        return EXIT_USAGE;
      }
      throw error;
    }
    io.stdout.write(values.json ? `${JSON.stringify(decisionJson(decision, request))}\n` : describe(decision, request));
    return decision.allowed ? EXIT_OK : EXIT_FINDING;
  },
};
