// The guest side of the live-oracle boot (test/kernel/mod-apparmor.test.ts): one bash script. It loads
// the generated parent profiles, starts each Apache instance under its profile (aa-exec), sends every
// generated request with one curl process per instance (the bodies are the labels label.php printed),
// then starts each php-fpm master under its profile and records every process it forked with its
// /proc/<pid>/attr/current. Results go into results/ of the shared work directory.
import type { WebSetup } from './configs.js';

const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** `parserCache`: a directory shared read-write and kept between runs (apparmor_parser -L). */
export function webGuestScript(work: string, setup: WebSetup, parserCache: string): string {
  const policies = [...setup.apache.map((a) => a.policy), ...setup.fpm.map((f) => f.policy)];
  return `set -u
W=${q(work)}
R=$W/results
mkdir -p $R/fpm
mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
echo "$(date +%T) kernel $(uname -r); $(apparmor_parser --version | head -1)"
apparmor_parser -r -W -L ${q(parserCache)} ${policies.map(q).join(' ')} > $R/load.out 2>&1; echo "load $?" >> $R/load.out
echo "$(date +%T) policies loaded"

# Apache: each instance in its parent profile; mod_apparmor moves its children between hats.
${setup.apache.map((a) => `mkdir -p /run/kweb-${a.name}
aa-exec -p ${a.profile} -- /usr/sbin/apache2 -f ${q(a.conf)} -k start > $R/apache-${a.name}.start 2>&1`).join('\n')}
${setup.apache.map((a) => `for i in $(seq 1 240); do (exec 3<>/dev/tcp/127.0.0.1/${a.port}) 2>/dev/null && break; sleep 0.25; done
echo "$(date +%T) apache ${a.name} up"
wc -l < ${q(a.errorLog)} > $R/apache-${a.name}.log-lines-before
curl -K ${q(a.curlConfig)} > $R/apache-${a.name}.codes 2> $R/apache-${a.name}.curl-err
echo "$(date +%T) apache ${a.name}: $(wc -l < $R/apache-${a.name}.codes) requests"`).join('\n')}
${setup.apache.map((a) => `/usr/sbin/apache2 -f ${q(a.conf)} -k stop`).join('\n')}

# PHP-FPM: each master in its profile; its workers change_profile to <profile>//<apparmor_hat> once.
# One master at a time, stopped as soon as its workers are recorded: pools whose workers exit 70 are
# respawned in a tight loop that takes the emulated CPU from everything else.
${setup.fpm.map((f) => `aa-exec -p ${f.profile} -- /usr/sbin/php-fpm8.2 -F -R -y ${q(f.conf)} > $R/fpm/${f.name}.out 2>&1 &
m=$!
for i in $(seq 1 240); do grep -q 'ready to handle connections' ${q(f.log)} 2>/dev/null && break; sleep 0.25; done
sleep 1
for p in $m $(ps -o pid= --ppid $m); do
  label=''; read -r label < /proc/$p/attr/current 2>/dev/null || label='(gone)'
  printf '%s\\t%s\\t%s\\n' "$p" "$label" "$(tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null)"
done > $R/fpm/${f.name}.processes
kill -TERM $m; wait $m
echo "$(date +%T) php-fpm ${f.name}: $(grep -c 'pool' $R/fpm/${f.name}.processes) workers recorded"`).join('\n')}
echo "$(date +%T) guest-done"
`;
}
