// The environment of every process the supervisor starts for a hat (the front, pool workers). Never the
// supervisor's own: an operator's exported secrets (database passwords, API tokens) would otherwise be
// one `process.env` away from code running in any site. Only what the runtime itself reads is passed.

/** Variables a Node worker (and the handlers' standard libraries) read to run; nothing else passes. */
const PASSED = new Set(['PATH', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'NODE_ENV', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS']);

/** `source`'s runtime variables (PATH, locale, TZ, NODE_OPTIONS ...) plus `own`, and nothing else. */
export function childEnvironment(own: Readonly<Record<string, string>>, source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && (PASSED.has(name) || name.startsWith('LC_'))) env[name] = value;
  }
  return { ...env, ...own };
}
