// `hatter which-hat`: which hat mod_apparmor (or PHP-FPM's apparmor_hat) puts a request (or a pool) in,
// and why; `--report` lists configured names missing from the policy and hats no request can reach.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { diagnosticToJson, formatDiagnostic, hasErrors, type Diagnostic } from '../policy/index.js';
import {
  fpmPoolTargets, mapRequest, nodeFileSystem, parseEnvvars, profileTreesFromPolicy, readApacheConfig,
  readFpmConfig, reportApacheHats, whichHat, type ApacheConfig, type HatOrder, type ProfileMode, type ProfileTreeWithAttachment,
} from '../web/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type CliIo, type Command } from './io.js';

const HELP = `Usage: hatter which-hat --apache FILE --policy FILE --url URL [options]
       hatter which-hat --apache FILE --policy FILE --report [options]
       hatter which-hat --fpm FILE --policy FILE [options]

Say exactly which AppArmor hat mod_apparmor enters for a request, the way Apache and the kernel
decide it: the virtual host chosen from address, port and Host header, the <Directory>/<Location>
sections merged in Apache's order, the candidate vector (AAHatName, AADefaultHatName or
ServerName, ServerName-URI, URI, DEFAULT_URI), the hat the kernel enters or the fail-open
fallback to the parent profile, and the lines mod_apparmor writes to Apache's error log.
With --fpm, one record per PHP-FPM pool: the label its workers change to (apparmor_hat) and
whether that target exists (a missing one makes every worker exit with code 70).

Options:
  --apache FILE        Apache's main configuration (e.g. /etc/apache2/apache2.conf); its
                       Include/IncludeOptional, Define, <IfModule> and <IfDefine> are followed
  --fpm FILE           php-fpm.conf (its include globs are followed)
  --policy FILE        the AppArmor policy file with Apache's (or php-fpm's) profile; its
                       includes (e.g. include <apache2.d>) are followed
  --url URL            the request: https://shop.example/cart/add.php?id=3, or a path
  --host NAME          Host header to send (default: the URL's host)
  --address IP         local address the connection arrives on (for IP-based vhosts)
  --profile NAME       the profile Apache runs under (default: the profile attached to
                       /usr/sbin/apache2 or httpd, else one named apache2, else the first)
  --mode MODE          enforce or complain (default: the profile's own flags)
  --order ORDER        current (2.9 and later, default) or 2.8.95 (the older documented order)
  -D NAME              define NAME for <IfDefine> (like apache2 -D); repeatable
  --modules LIST       comma-separated module set for <IfModule> (default: the modules the
                       configuration loads with LoadModule, plus the compiled-in ones)
  -I, --include DIR    add DIR to where the policy's include <...> looks (before /etc/apparmor.d);
                       repeatable
  --prefix DIR         php-fpm's prefix for relative include paths (like php-fpm -p; default /usr)
  --report             for every vhost and every section with AAHatName: the hats requests can
                       land in; configured names missing from the policy; unreachable hats
  --json               machine-readable output (one JSON document)
  -h, --help           show this help

Examples:
  hatter which-hat --apache /etc/apache2/apache2.conf --policy /etc/apparmor.d/usr.sbin.apache2 \\
      --url https://shop.example/cart/add.php
  hatter which-hat --apache examples/web/apache2/apache2.conf -I examples/web/apparmor.d \\
      --policy examples/web/apparmor.d/apache2.apparmor \\
      --url http://bob.localhost:8080/admin/ --mode complain --json
  hatter which-hat --apache /etc/apache2/apache2.conf --policy /etc/apparmor.d/usr.sbin.apache2 --report
  hatter which-hat --fpm /etc/php/8.2/fpm/php-fpm.conf --policy /etc/apparmor.d/php-fpm
  hatter which-hat --fpm examples/web/php-fpm/php-fpm.conf --prefix examples/web/php-fpm \\
      --policy examples/web/apparmor.d/php-fpm.apparmor

JSON (--url): {"vhost","serverName","candidates":[...],"hat","label","outcome","reason","warnings":[...],
  "uri","filePath","sections":[...],"profile","mode","order","diagnostics":[...]}
  outcome: "hat" (entered a hat), "learning" (complain mode null- hat), "parent" (no hat: the request
  runs in the profile itself), "error" (Apache unconfined, or httpd rejects the request first).

Exit status: 0 the request lands in a hat (or every pool's target exists; --report: nothing missing
or unreachable); 1 a finding (fallback to the parent, unconfined, a pool that cannot start, missing or
dead hats); 2 usage error, unreadable input, or an Apache/FPM configuration error (Apache or php-fpm
would refuse to start). Problems in the policy are printed but do not change the exit status.`;

const APACHE_BINARY = /^(\/usr\/sbin\/apache2|apache2|\/usr\/sbin\/httpd.*)$/;
const FPM_BINARY = /^(\/usr\/sbin\/php-fpm.*|php-fpm.*)$/;

function withMode(tree: ProfileTreeWithAttachment, mode: ProfileMode): ProfileTreeWithAttachment {
  return { ...tree, mode, children: tree.children.map((c) => withMode(c, mode)) };
}

function chooseProfile(trees: readonly ProfileTreeWithAttachment[], wanted: string | undefined, binary: RegExp): ProfileTreeWithAttachment | undefined {
  if (wanted !== undefined) {
    const find = (list: readonly ProfileTreeWithAttachment[]): ProfileTreeWithAttachment | undefined => {
      for (const t of list) {
        if (t.name === wanted) return t;
        const inner = find(t.children);
        if (inner) return inner;
      }
      return undefined;
    };
    return find(trees) ?? trees.find((t) => t.attachment === wanted);
  }
  return trees.find((t) => (t.attachment !== undefined && binary.test(t.attachment)) || binary.test(t.name)) ?? trees[0];
}

function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
}

export const command: Command = {
  name: 'which-hat',
  summary: 'say which hat mod_apparmor or PHP-FPM would use for a request or pool',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(args, {
      apache: { type: 'string' },
      fpm: { type: 'string' },
      policy: { type: 'string' },
      url: { type: 'string' },
      host: { type: 'string' },
      address: { type: 'string' },
      profile: { type: 'string' },
      mode: { type: 'string' },
      order: { type: 'string' },
      define: { type: 'string', short: 'D', multiple: true },
      modules: { type: 'string' },
      include: { type: 'string', short: 'I', multiple: true },
      prefix: { type: 'string' },
      report: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.policy) throw new UsageError('--policy FILE is required');
    if ((values.apache === undefined) === (values.fpm === undefined)) throw new UsageError('give exactly one of --apache FILE or --fpm FILE');
    if (values.apache !== undefined && !values.report && values.url === undefined) throw new UsageError('--apache needs --url URL (or --report)');
    if (values.fpm !== undefined && (values.url !== undefined || values.report)) throw new UsageError('--url and --report go with --apache, not --fpm');
    if (values.mode !== undefined && values.mode !== 'enforce' && values.mode !== 'complain') throw new UsageError(`--mode must be enforce or complain, not '${values.mode}'`);
    if (values.order !== undefined && values.order !== 'current' && values.order !== '2.8.95') throw new UsageError(`--order must be current or 2.8.95, not '${values.order}'`);
    const order: HatOrder = (values.order as HatOrder | undefined) ?? 'current';
    if (values.url !== undefined && !/^(\/|https?:\/\/[^/?#]+)/i.test(values.url)) {
      throw new UsageError(`--url must be an http(s) URL or a path starting with '/', not '${values.url}' (e.g. https://shop.example/cart)`);
    }
    const fs = nodeFileSystem();

    const policyPath = resolve(io.cwd, values.policy);
    // -I adds to the search path; /etc/apparmor.d stays last (for abi/, tunables/, abstractions/).
    const includeDirs = [...(values.include ?? []).map((d) => resolve(io.cwd, d)), '/etc/apparmor.d'];
    const policy = profileTreesFromPolicy(policyPath, { reader: nodeFileReader(), includeDirs });
    if (policy.trees.length === 0) {
      printDiagnostics(io, policy.diagnostics);
      io.stderr.write(`hatter which-hat: no profile found in ${values.policy}\n`);
      return EXIT_USAGE;
    }
    let profile = chooseProfile(policy.trees, values.profile, values.fpm !== undefined ? FPM_BINARY : APACHE_BINARY);
    if (!profile) {
      io.stderr.write(`hatter which-hat: no profile named '${values.profile}' in ${values.policy} (profiles: ${policy.trees.map((t) => t.name).join(', ')})\n`);
      return EXIT_USAGE;
    }
    const binary = values.fpm !== undefined ? FPM_BINARY : APACHE_BINARY;
    if (values.profile === undefined && !((profile.attachment !== undefined && binary.test(profile.attachment)) || binary.test(profile.name)) && !values.json) {
      io.stderr.write(`note: no profile in ${values.policy} attaches to ${values.fpm !== undefined ? '/usr/sbin/php-fpm*' : '/usr/sbin/apache2 or httpd'}; using the first one, ${profile.name} (choose with --profile)\n`);
    }
    if (values.mode !== undefined) profile = withMode(profile, values.mode as ProfileMode);

    if (values.fpm !== undefined) {
      const fpmPath = resolve(io.cwd, values.fpm);
      const { config, diagnostics } = readFpmConfig(fpmPath, { fs, env: io.env as Record<string, string>, ...(values.prefix !== undefined ? { prefix: resolve(io.cwd, values.prefix) } : {}) });
      const all = [...policy.diagnostics, ...diagnostics];
      if (config.files.length === 0) {
        printDiagnostics(io, all);
        return EXIT_USAGE;
      }
      const targets = fpmPoolTargets(config, profile);
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ profile: profile.name, mode: profile.mode, pools: targets.map((t) => ({ ...t, ...poolDetails(config.pools.find((p) => p.name === t.pool)!) })), diagnostics: all.map(diagnosticToJson) }, null, 2)}\n`);
      } else {
        printDiagnostics(io, all);
        io.stdout.write(`php-fpm profile: ${profile.name} (${profile.mode})\n`);
        for (const t of targets) {
          const pool = config.pools.find((p) => p.name === t.pool)!;
          io.stdout.write(`\n[${t.pool}]  user ${pool.user ?? '-'}  listen ${pool.listen ?? '-'}${pool.chroot ? `  chroot ${pool.chroot}` : ''}${pool.openBasedir ? `  open_basedir ${pool.openBasedir}` : ''}\n`);
          io.stdout.write(`  target: ${t.target ?? '(none)'}  ${t.outcome === 'changes' ? `exists (${t.kind})` : t.outcome === 'unchanged' ? '' : t.outcome === 'learning' ? 'MISSING (learning profile in complain mode)' : 'CANNOT START (exit 70)'}\n`);
          io.stdout.write(`  ${t.reason}\n`);
        }
      }
      if (hasErrors(all)) return EXIT_USAGE;
      return targets.some((t) => t.outcome === 'exit-70' || t.outcome === 'learning') ? EXIT_FINDING : EXIT_OK;
    }

    const apachePath = resolve(io.cwd, values.apache!);
    const envvarsPath = join(dirname(apachePath), 'envvars');
    const envRead = existsSync(envvarsPath) ? fs.read(envvarsPath) : undefined;
    const env = { ...(envRead && 'text' in envRead ? parseEnvvars(envRead.text) : {}), ...(io.env as Record<string, string>) };
    const { config, diagnostics } = readApacheConfig(apachePath, {
      fs,
      env,
      ...(values.define ? { defines: values.define } : {}),
      ...(values.modules !== undefined ? { modules: values.modules.split(',').map((m) => m.trim()).filter(Boolean) } : {}),
    });
    const all = [...policy.diagnostics, ...diagnostics];
    if (config.files.length === 0) {
      printDiagnostics(io, all);
      return EXIT_USAGE;
    }
    const mapOptions = { defaultServerName: hostname(), stat: (path: string) => fs.stat(path) };

    if (values.report) {
      const report = reportApacheHats(config, profile, { ...mapOptions, order });
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ profile: profile.name, mode: profile.mode, ...report, diagnostics: all.map(diagnosticToJson) }, null, 2)}\n`);
      } else {
        printDiagnostics(io, all);
        io.stdout.write(`profile: ${profile.name} (${profile.mode})\n`);
        for (const s of report.servers) {
          io.stdout.write(`\n${s.vhost}  ServerName ${s.serverName}${s.defaultHatName !== undefined ? `  AADefaultHatName ${s.defaultHatName}` : ''}\n`);
          io.stdout.write(`  requests without AAHatName land in: ${s.defaultLanding.join(', ')}\n`);
          for (const sec of s.sections) io.stdout.write(`  ${sec.section} AAHatName ${sec.hatName} (${sec.at}) -> ${sec.landing.join(', ')}\n`);
        }
        io.stdout.write(`\nconfigured but missing from ${profile.name}: ${report.missing.length === 0 ? 'none' : ''}\n`);
        for (const m of report.missing) io.stdout.write(`  ${m.name}  (${m.directive} at ${m.at}${m.note ? `; ${m.note}` : ''})\n`);
        io.stdout.write(`hats no request can reach: ${report.deadHats.length === 0 ? 'none' : ''}\n`);
        for (const d of report.deadHats) io.stdout.write(`  ${d}\n`);
      }
      if (hasErrors(all)) return EXIT_USAGE;
      return report.missing.length > 0 || report.deadHats.length > 0 ? EXIT_FINDING : EXIT_OK;
    }

    const target = { url: values.url!, ...(values.host !== undefined ? { host: values.host } : {}), ...(values.address !== undefined ? { localAddress: values.address } : {}) };
    const mapped = mapRequest(config, target, mapOptions);
    const answer = whichHat(config, target, profile, { order, map: mapOptions });
    const deprecatedNotices = answer.notices;
    const vhostId = (config_: ApacheConfig, s: typeof config_.main): string => (s.isMain ? 'main' : `${s.location.file}:${s.location.line}`);
    if (!mapped.ok || !answer.ok) {
      const failed = mapped.ok ? undefined : mapped;
      const result = {
        vhost: failed?.vhost ? vhostId(config, failed.vhost) : null, serverName: failed?.serverName ?? null, candidates: [], hat: null,
        label: `${profile.name}//HANDLING_UNTRUSTED_INPUT`, outcome: 'error' as const,
        reason: `httpd answers ${failed?.status ?? 400} before mod_apparmor runs: ${failed?.reason ?? ''}`, warnings: deprecatedNotices,
        status: failed?.status ?? 400, profile: profile.name, mode: profile.mode, order, diagnostics: all.map(diagnosticToJson),
      };
      if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        printDiagnostics(io, all);
        io.stdout.write(`request:    rejected by httpd with ${result.status}: ${failed?.reason ?? ''}\nhat:        none (the worker stays in ${result.label} while answering)\n`);
      }
      return hasErrors(all) ? EXIT_USAGE : EXIT_FINDING;
    }
    const { candidates, selection } = answer;
    const names = candidates.map((c) => c.name);
    const warnings = [...deprecatedNotices, ...selection.warnings];
    const sections = mapped.sections.map((s) => ({
      kind: s.section.kind, pattern: s.section.pattern, from: s.from, at: `${s.section.location.file}:${s.section.location.line}`,
      ...(s.section.hatName !== undefined ? { hatName: s.section.hatName, hatDirective: s.section.hatDirective } : {}),
    }));
    if (values.json) {
      io.stdout.write(`${JSON.stringify({
        vhost: vhostId(config, mapped.vhost), serverName: mapped.serverName, candidates: names, hat: selection.hat, label: selection.label,
        outcome: selection.outcome, reason: selection.reason, warnings,
        vhostMatchedBy: mapped.vhostChoice.matchedBy, vhostReason: mapped.vhostChoice.reason, uri: mapped.uri, filePath: mapped.filePath, ...(mapped.pathInfo ? { pathInfo: mapped.pathInfo } : {}),
        sections, candidateSources: candidates.map((c) => c.source), profile: profile.name, mode: profile.mode, order,
        notes: mapped.notes, diagnostics: all.map(diagnosticToJson),
      }, null, 2)}\n`);
    } else {
      printDiagnostics(io, all);
      const out: string[] = [];
      const v = mapped.vhost;
      out.push(`vhost:       ${v.isMain ? 'main server' : `<VirtualHost ${v.addresses.map((a) => `${a.host}:${a.port}`).join(' ')}> at ${vhostId(config, v)}`}`);
      out.push(`             ${mapped.vhostChoice.reason}`);
      out.push(`ServerName:  ${mapped.serverName}${mapped.vhost.defaultHatName !== undefined ? `   AADefaultHatName: ${mapped.vhost.defaultHatName}` : ''}`);
      out.push(`URI:         ${mapped.uri} -> ${mapped.filePath}${mapped.pathInfo ? ` + PATH_INFO ${mapped.pathInfo}` : ''}${mapped.alias ? ` (${mapped.alias.kind} ${mapped.alias.from})` : ''}`);
      if (sections.length === 0) out.push('sections:    none');
      sections.forEach((s, i) => {
        const sets = s.hatName !== undefined ? `  ${s.hatDirective} ${s.hatName}${mapped.hatSection?.section.location === mapped.sections[i]!.section.location ? '  <- wins (last merged)' : '  (overridden later)'}` : '';
        out.push(`${i === 0 ? 'sections:    ' : '             '}${i + 1}. <${s.kind} ${s.pattern}> ${s.from === 'main' ? 'main server' : 'vhost'}, ${s.at}${sets}`);
      });
      candidates.forEach((c, i) => out.push(`${i === 0 ? `candidates:  ` : '             '}${i + 1}. ${c.name.length > 120 ? `${c.name.slice(0, 117)}...` : c.name}  (${c.source})`));
      out.push(`mode:        ${profile.mode}   order: ${order}`);
      const outcomeText = selection.outcome === 'hat' ? `hat ${selection.label}` : selection.outcome === 'learning' ? `learning hat ${selection.label}` : selection.outcome === 'parent' ? `no hat: the request runs in ${selection.label}` : `unconfined`;
      out.push(`result:      ${outcomeText}`);
      out.push(`why:         ${selection.reason}`);
      for (const n of mapped.notes) out.push(`note:        ${n}`);
      warnings.forEach((w, i) => out.push(`${i === 0 ? 'error log:   ' : '             '}${w}`));
      io.stdout.write(`${out.join('\n')}\n`);
    }
    // A policy apparmor_parser would reject is an error here too (its diagnostics are printed above).
    if (hasErrors(all)) return EXIT_USAGE;
    return selection.outcome === 'hat' || selection.outcome === 'learning' ? EXIT_OK : EXIT_FINDING;
  },
};

function poolDetails(pool: { user?: string; group?: string; listen?: string; chroot?: string; chdir?: string; openBasedir?: string; location: { file: string; line: number } }): Record<string, unknown> {
  return {
    user: pool.user ?? null, group: pool.group ?? null, listen: pool.listen ?? null, chroot: pool.chroot ?? null, chdir: pool.chdir ?? null,
    openBasedir: pool.openBasedir ?? null, at: `${pool.location.file}:${pool.location.line}`,
  };
}

