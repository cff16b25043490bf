// Benchmark: `isolation()` on generated multi-site policies (each site a hat with its own root, the
// common abstractions, a few shared areas), at 50, 100 and 200 sites. The goal (issue #21): 200 sites
// under 10 s, growing no worse than quadratically.
//
//   npm run bench -- isolate
import { existsSync } from 'node:fs';
import { machineLine, markdownTable, median, writeBenchSection } from './support/report.js';
import { checkPolicy } from '../src/policy/check/index.js';
import { compilePolicy } from '../src/policy/eval/index.js';
import { memoryFileReader, type FileReader } from '../src/policy/resolve/index.js';
import { nodeFileReader } from '../src/policy-node/index.js';
import { isolation } from '../src/isolate/index.js';
import { formatMatrix } from '../src/cli/isolate.js';
import { tenantsFromFlags } from '../src/web/index.js';

const SIZES = [50, 100, 200];
const RUNS = Number(process.env.HATTER_BENCH_RUNS ?? 1);

/** Sites 0–4 share a writable cache (flows among them); every site reads a shared read-only asset tree. */
export function generatedPolicy(sites: number, withAbstractions: boolean): string {
  const hats = Array.from({ length: sites }, (_, i) => `  ^site${i}.example {
${withAbstractions ? '    include <abstractions/base>\n' : ''}    /usr/bin/node mr,
    /usr/lib/** mr,
    /srv/www/site${i}/ r,
    /srv/www/site${i}/** rwk,
    /srv/www/site${i}/cgi-bin/* rix,
    /srv/shared/assets/** r,
    /tmp/site${i}/** rw,
    owner /var/lib/php/sessions/site${i}/** rw,
${i < 5 ? '    /var/cache/common/** rw,\n' : ''}    network inet stream,
  }
`).join('');
  return `abi <abi/3.0>,\ninclude <tunables/global>\nprofile web /usr/sbin/web {\n  include <abstractions/base>\n${hats}}\n`;
}

function layered(text: string): FileReader {
  const memory = memoryFileReader({ '/bench/web': text });
  const disk = nodeFileReader();
  return { ...disk, readFile: (path) => memory.readFile(path) ?? disk.readFile(path), kind: (path) => memory.kind(path) ?? disk.kind(path) } as FileReader;
}

export async function run(repoRoot: string): Promise<void> {
  const abstractions = existsSync('/etc/apparmor.d/abstractions/base');
  const rows: (string | number)[][] = [];
  const times: number[] = [];
  for (const sites of SIZES) {
    const text = generatedPolicy(sites, abstractions);
    // Loading (parse, resolve, check) and compiling are what `hatter isolate` does first: counted too.
    const loadStart = performance.now();
    const checked = checkPolicy('/bench/web', { reader: layered(text), workingDirectory: '/bench', includePaths: ['/etc/apparmor.d'] });
    const errors = checked.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`generated policy does not check: ${errors[0]!.message}`);
    const loadMs = performance.now() - loadStart;
    const compileStart = performance.now();
    const { compiled } = compilePolicy(checked.policy);
    const compileMs = performance.now() - compileStart;
    // Each site runs as its own user (as hosting does), so the owner rules of abstractions/base cross no site.
    const flags = tenantsFromFlags(Array.from({ length: sites }, (_, i) => `site${i}.example=/srv/www/site${i}`));
    const model = { ...flags, tenants: flags.tenants.map((t) => ({ ...t, user: t.name })) };
    const samples: number[] = [];
    let flows = 0;
    for (let r = 0; r < RUNS; r++) {
      const started = performance.now();
      const result = isolation(compiled, model, { profile: 'web' });
      samples.push(performance.now() - started);
      flows = result.flows.length;
    }
    const ms = median(samples);
    times.push(ms);
    rows.push([String(sites), sites * (sites - 1), Math.round(loadMs), Math.round(compileMs), Math.round(ms), Math.round(loadMs + compileMs + ms), String(flows)]);
    process.stdout.write(`${sites} sites: load ${Math.round(loadMs)} ms, compile ${Math.round(compileMs)} ms, isolation ${Math.round(ms)} ms (median of ${RUNS}), ${flows} flows\n`);
  }
  // The worst case hosting really has: every site runs as www-data, so each owner rule of
  // abstractions/base (~/.Private/**, /proc/@{pid}/…) is a path every site may write and every other
  // may read: a flow per ordered pair. Timed with the matrix `hatter isolate` prints (it was cubic).
  const sameUser = (() => {
    const sites = SIZES[SIZES.length - 1]!;
    const checked = checkPolicy('/bench/web', { reader: layered(generatedPolicy(sites, abstractions)), workingDirectory: '/bench', includePaths: ['/etc/apparmor.d'] });
    const { compiled } = compilePolicy(checked.policy);
    const model = tenantsFromFlags(Array.from({ length: sites }, (_, i) => `site${i}.example=/srv/www/site${i}`));
    const started = performance.now();
    const result = isolation(compiled, model, { profile: 'web' });
    const isolationMs = performance.now() - started;
    const matrixStarted = performance.now();
    const matrix = formatMatrix(result);
    const matrixMs = performance.now() - matrixStarted;
    process.stdout.write(`${sites} sites, one user: isolation ${Math.round(isolationMs)} ms, matrix ${Math.round(matrixMs)} ms (${matrix.length} characters), ${result.flows.length} flows\n`);
    return { sites, isolationMs, matrixMs, flows: result.flows.length };
  })();
  const growth = Math.log(times[2]! / times[0]!) / Math.log(SIZES[2]! / SIZES[0]!);
  const table = markdownTable({ headers: ['sites', 'ordered pairs', 'load+check (ms)', 'compile (ms)', 'isolation (ms, median)', 'total (ms)', 'flows'], rows });
  const markdown = `## isolate

\`npm run bench -- isolate\`: \`isolation()\` on a generated policy (every site a hat with its own root,
${abstractions ? '`abstractions/base` in every hat, ' : ''}a shared read-only asset tree, a cache that sites 0–4 share for writing:
20 flows expected). Counted: loading and checking the policy, compiling it, and \`isolation()\` (what
\`hatter isolate\` does, minus reading the tenant flags and printing), each timed apart. ${machineLine()}.

${table}

Growth of \`isolation()\` from 50 to 200 sites: time ∝ sites^${growth.toFixed(2)} (quadratic would be 2.00). Goal: 200 sites under 10 s in total.

Worst case, every site the same user (no \`user:\`; each owner rule of \`abstractions/base\` is then a
shared path between every two sites): ${sameUser.sites} sites, ${sameUser.flows.toLocaleString('en-US')} flows, \`isolation()\` ${Math.round(sameUser.isolationMs).toLocaleString('en-US')} ms,
the printed matrix ${Math.round(sameUser.matrixMs).toLocaleString('en-US')} ms (loading and compiling as above).
`;
  process.stdout.write(`${markdown}\n`);
  writeBenchSection(repoRoot, 'isolate', markdown);
}
