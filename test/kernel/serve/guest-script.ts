// The guest side of the serve checks (test/kernel/serve.test.ts): one bash script for one boot. Each
// serve run writes its results into results/<run>/ of the shared work directory: `started` (ready,
// timeout or `exited N`), the status page, the /read responses of alice and bob, the supervisor's label
// and a table of every process (pid, ppid, /proc/<pid>/attr/current, command line). A line
// `hatter-kserve: begin <run>` goes into the kernel log before each run so the host can tell which
// audit lines belong to it.

export const SERVE_RUNS = ['load-policy', 'enforce', 'extended', 'complain'] as const;
export type ServeRunName = (typeof SERVE_RUNS)[number];

export interface ServeGuestPaths {
  /** Shared read-write work directory (holds enforce/ and complain/ policy copies). */
  readonly work: string;
  /** The compiled CLI entry (…/src/cli/bin.js). */
  readonly cli: string;
  /** examples/hosting of the checkout; serve finds the embedded demo from the checkout root. */
  readonly demoDir: string;
  readonly aliceSecretFile: string;
  /** Whether `hatter serve --help` lists --load-policy (checked on the host: a guest Node start costs 10-20 s). */
  readonly loadPolicySupported: boolean;
}

/** Seconds to wait for the status page to show every demo worker ready. */
const STARTUP_SECONDS = 150; // 54-74 s were seen on a loaded 2-core host

/**
 * Each PHP-FPM master's start limit (--php-fpm-start-timeout): far above the default, since every
 * instruction is emulated; still below STARTUP_SECONDS, so a master that hangs fails its run.
 */
const PHP_FPM_START_SECONDS = 120;

export function serveGuestScript(paths: ServeGuestPaths): string {
  const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  return `set -u
W=${q(paths.work)}
R=$W/results
CLI=${q(paths.cli)}
SECRET=${q(paths.aliceSecretFile)}
mkdir -p $R
echo "$(date +%T) kernel $(uname -r); $(apparmor_parser --version | head -1)"
# serve finds the embedded demo by walking up from the working directory
cd ${q(paths.demoDir)}/../..

# serve_run NAME PORT ADMIN-PORT COMMAND...: start serve in the background, wait for its workers, probe, stop.
serve_run() {
  local name=$1 port=$2 admin=$3; shift 3
  local d=$R/$name; mkdir -p $d
  echo "hatter-kserve: begin $name" > /dev/kmsg
  # The demo with its PHP pages: one PHP-FPM master per site; emulation makes them slow to start.
  "$@" --php-fpm-start-timeout ${PHP_FPM_START_SECONDS} --listen 127.0.0.1:$port --admin 127.0.0.1:$admin --access-log off > $d/serve.out 2> >(while IFS= read -r line; do printf '%(%T)T %s\\n' -1 "$line"; done > $d/serve.err) < /dev/null &
  local pid=$! started=timeout i
  for i in $(seq 1 ${STARTUP_SECONDS * 2}); do
    if ! kill -0 $pid 2>/dev/null; then wait $pid; started="exited $?"; break; fi
    if curl -s -m 3 http://127.0.0.1:$admin/_hatter/status > $d/status.json 2>/dev/null; then
      local ready starting
      ready=$(grep -Eo '"state": ?"ready"' $d/status.json | wc -l)
      starting=$(grep -Eo '"state": ?"starting"' $d/status.json | wc -l)
      if [ "$ready" -ge 4 ] && [ "$starting" -eq 0 ]; then started=ready; break; fi
    fi
    sleep 0.5
  done
  echo "$started" > $d/started
  echo "$(date +%T) $name: $started (supervisor pid $pid)"
  echo $pid > $d/supervisor-pid
  if [ "$started" = ready ]; then
    tr -d '\\0' < /proc/$pid/attr/current > $d/supervisor-label
    for who in alice bob; do
      curl -s -m 30 -o $d/$who.body -w '%{http_code}' -H "Host: $who.localhost" "http://127.0.0.1:$port/read?path=$SECRET" > $d/$who.code
      echo "$(date +%T) $name: $who /read -> $(cat $d/$who.code)"
      curl -s -m 60 -o $d/$who-php.body -w '%{http_code}' -H "Host: $who.localhost" "http://127.0.0.1:$port/php/" > $d/$who-php.code
      echo "$(date +%T) $name: $who /php/ -> $(cat $d/$who-php.code)"
    done
    curl -s -m 3 http://127.0.0.1:$admin/_hatter/status > $d/status.json
    # the supervisor and its descendants (front, workers, PHP-FPM masters and their children): builtins
    # where possible, forks are slow under TCG
    local tree=" $pid " more=$pid
    while [ -n "$more" ]; do
      more=$(ps -o pid= --ppid "$(echo $more | tr ' ' ,)" | tr -s ' \\n' ' ')
      tree="$tree$more "
    done
    for p in $tree; do
      local label='' ppid='' line
      read -r label < /proc/$p/attr/current 2>/dev/null || label='(unreadable)'
      while read -r line; do case $line in PPid:*) ppid=\${line#PPid:}; break;; esac; done < /proc/$p/status
      printf '%s\\t%s\\t%s\\t%s\\n' "$p" "\${ppid//[[:space:]]/}" "$label" "$(tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null)"
    done > $d/processes.tsv
    kill -TERM $pid
    for i in $(seq 1 60); do kill -0 $pid 2>/dev/null || break; sleep 0.25; done
    kill -KILL $pid 2>/dev/null
  fi
  wait $pid 2>/dev/null
  echo "$?" > $d/exit
  echo "$(date +%T) $name: stopped"
}

# 1. serve loads the policy itself: run by root, unconfined (the parent profile cannot run apparmor_parser)
${paths.loadPolicySupported ? 'serve_run load-policy 18080 18081 node $CLI serve --backend apparmor --load-policy' : 'mkdir -p $R/load-policy; echo "not run: hatter serve --help lists no --load-policy option" > $R/load-policy/started'}

# 2. the documented deployment: policy loaded first (aa-exec attaches only a loaded profile), supervisor under the parent profile
apparmor_parser -r $W/enforce/hatter-demo > $R/enforce-load.out 2>&1 || echo "enforce policy failed to load: $(cat $R/enforce-load.out)"
serve_run enforce 18180 18181 aa-exec -p hatter-demo -- node $CLI serve --backend apparmor

# 2b. when the supervisor cannot run under the demo's own parent profile: the parent with the extra
#     supervisor rules (hats unchanged), so the confinement of the workers is still checked
if [ "$(cat $R/enforce/started)" != ready ]; then
  apparmor_parser -r $W/extended/hatter-demo > $R/extended-load.out 2>&1 || echo "extended policy failed to load: $(cat $R/extended-load.out)"
  serve_run extended 18380 18381 aa-exec -p hatter-demo -- node $CLI serve --backend apparmor
fi

# 3. bob's hat in complain mode (a copy of the policy and of hatter.yaml)
apparmor_parser -r $W/complain/hatter-demo > $R/complain-load.out 2>&1 || echo "complain policy failed to load: $(cat $R/complain-load.out)"
serve_run complain 18280 18281 aa-exec -p hatter-demo -- node $CLI serve $W/complain/hatter.yaml --backend apparmor

grep -h '^hatter-demo' /sys/kernel/security/apparmor/profiles > $R/profiles.txt 2>/dev/null
echo guest-done
`;
}
