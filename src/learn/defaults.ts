// Which alternative a file group defaults to when the exact rule would not survive the next run:
// paths that name a process id (`/proc/136/attr/current`) and temporary files with a random name
// (`/tmp/php8hQ2zA`, `/tmp/.ZendSem.mAOcCG`) or below a directory with one (mkdtemp's
// `/tmp/hatter-php-fpm-Ab12cd/alice/php-fpm.sock`). Pure: path text in, pattern text out.

/** `/proc/<digits>/…`: a process's own entries (or another's); the pid differs on every run. */
const PROC_PID = /^\/proc\/[0-9]+(\/|$)/;

export function namesProcessId(path: string): boolean {
  return PROC_PID.test(path);
}

/** Directories whose files are per-run temporaries: the system's, and the usual names of a site's own. */
const TEMP_DIRS = new Set(['/tmp', '/var/tmp', '/dev/shm']);
const TEMP_DIR_NAMES = new Set(['tmp', 'temp', 'session', 'sessions']);
/** Prefixes known to be followed by mkstemp's six random characters (PHP's uploads and opcache lock, mktemp(1)). */
const KNOWN_PREFIXES = ['php', '.ZendSem.', 'tmp.', 'sess_'];
/** Prefixes known to be followed by mkdtemp's six random characters (hatter serve's PHP-FPM run directory, mktemp -d). */
const KNOWN_DIRECTORY_PREFIXES = ['hatter-php-fpm-', 'tmp.'];
const RANDOM_SUFFIX = /^(.+?)([A-Za-z0-9]{6})$/;

function classesOf(text: string): number {
  return (/[a-z]/.test(text) ? 1 : 0) + (/[A-Z]/.test(text) ? 1 : 0) + (/[0-9]/.test(text) ? 1 : 0);
}

/**
 * The prefix of a temporary file's name when its last component ends in a mkstemp-like random suffix
 * (six of [A-Za-z0-9], what mkstemp's `XXXXXX` becomes), in a temp directory; undefined otherwise.
 * The suffix must look random: after a known prefix anything; after another non-empty prefix it must
 * mix at least two of lower case, upper case and digits and not be letters followed by digits only
 * (`report2024`, `log123456` are names, not mkstemp output). An empty prefix never qualifies (`/tmp/*`).
 */
export function temporaryPrefix(path: string): { dir: string; prefix: string } | undefined {
  const slash = path.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const dir = path.slice(0, slash);
  const name = path.slice(slash + 1);
  const dirName = dir.slice(dir.lastIndexOf('/') + 1);
  if (!TEMP_DIRS.has(dir) && !TEMP_DIR_NAMES.has(dirName)) return undefined;
  const m = RANDOM_SUFFIX.exec(name);
  if (!m) return undefined;
  const [, prefix, suffix] = m as unknown as [string, string, string];
  if (KNOWN_PREFIXES.includes(prefix)) return { dir, prefix };
  if (classesOf(suffix) < 2 || /^[A-Za-z]+[0-9]+$/.test(suffix)) return undefined;
  return { dir, prefix };
}

/**
 * A path below a temporary directory with a random name, made by mkdtemp in a temp directory:
 * `/tmp/hatter-php-fpm-Ab12cd/alice/php-fpm.sock` is `{ dir: '/tmp', prefix: 'hatter-php-fpm-', rest:
 * 'alice/php-fpm.sock' }`. The directory's name is one of the known prefixes `hatter-php-fpm-` (hatter
 * serve's PHP-FPM run directory) and `tmp.` (mktemp -d) followed by six random characters; the rest is
 * kept as it is, except a last component that is a known mkstemp name (`filePrefix`, e.g. `.ZendSem.`).
 * Undefined otherwise.
 */
export function temporaryDirectory(path: string): { dir: string; prefix: string; rest: string; filePrefix?: string } | undefined {
  for (const dir of TEMP_DIRS) {
    if (!path.startsWith(`${dir}/`)) continue;
    const tail = path.slice(dir.length + 1);
    const slash = tail.indexOf('/');
    if (slash <= 0 || slash === tail.length - 1) return undefined;
    // Only known prefixes: a site kept in a directory made by mktemp (a test's copy in /var/tmp) is a
    // site, and its files should keep their exact directory.
    const prefix = RANDOM_SUFFIX.exec(tail.slice(0, slash))?.[1];
    if (prefix === undefined || !KNOWN_DIRECTORY_PREFIXES.includes(prefix)) return undefined;
    const rest = tail.slice(slash + 1);
    // A known mkstemp file inside it (opcache's .ZendSem.XXXXXX in the pool's directory) is random too.
    const m = RANDOM_SUFFIX.exec(rest.slice(rest.lastIndexOf('/') + 1));
    const filePrefix = m && KNOWN_PREFIXES.includes(m[1]!) ? m[1]! : undefined;
    return { dir, prefix, rest, ...(filePrefix ? { filePrefix } : {}) };
  }
  return undefined;
}
