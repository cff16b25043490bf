// The command table. Modules load lazily so `hatter --help` and small commands start fast.
import type { Command } from './io.js';

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ command: Command }>;
}

export const commands: readonly CommandEntry[] = [
  { name: 'parse', summary: 'parse policy files; print them back losslessly or as a JSON AST', load: () => import('./parse.js') },
  { name: 'fmt', summary: 'format policy files in the canonical style (--check, --write)', load: () => import('./fmt.js') },
  { name: 'check', summary: 'check policy files the way apparmor_parser does (includes, variables, errors)', load: () => import('./check.js') },
  { name: 'aare', summary: 'match paths against AppArmor globs and compare globs as sets', load: () => import('./aare.js') },
  { name: 'query', summary: 'ask what a profile or hat allows, and which rules decide it', load: () => import('./query.js') },
  { name: 'diff', summary: 'compare two policies by meaning, with witness requests', load: () => import('./diff.js') },
  { name: 'logs', summary: 'read AppArmor audit logs of every format; group, summarize, follow', load: () => import('./logs.js') },
  { name: 'which-hat', summary: 'say which hat mod_apparmor or PHP-FPM would use for a request or pool', load: () => import('./which-hat.js') },
  { name: 'serve', summary: 'run the web server that confines each site in its own hat', load: () => import('./serve.js') },
  { name: 'record', summary: 'run a program under strace and record what it does as events for hatter learn', load: () => import('./record.js') },
  { name: 'learn', summary: 'turn complain-mode audit events into reviewed, tenant-safe policy rules', load: () => import('./learn.js') },
  { name: 'site', summary: 'add, remove and list sites (hat + Apache vhost + PHP-FPM pool, in agreement)', load: () => import('./site.js') },
  { name: 'mode', summary: 'put profiles, hats and child profiles in complain, enforce, audit or disable (flags only)', load: () => import('./mode.js') },
  { name: 'status', summary: 'loaded profiles and confined processes (like aa-status), and each web worker\'s hat against the configuration', load: () => import('./status.js') },
  { name: 'lint', summary: 'find policy mistakes that make web confinement useless (SARIF, --fix)', load: () => import('./lint.js') },
  { name: 'confine', summary: 'explain how a hat is enforced by each confinement backend', load: () => import('./confine.js') },
  { name: 'console', summary: 'the web console: sites, live denials, learn in the browser, isolation, policy with lint', load: () => import('./console.js') },
  { name: 'isolate', summary: 'prove that sites are isolated: which tenant can reach which, with witnesses', load: () => import('./isolate.js') },
];
