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
${setup.apache.map((a) => `for i in $(seq 1 120); do curl -s -o /dev/null -m 2 http://127.0.0.1:${a.port}/ && break; sleep 0.5; done
echo "$(date +%T) apache ${a.name} up"
wc -l < ${q(a.errorLog)} > $R/apache-${a.name}.log-lines-before
curl -K ${q(a.curlConfig)} > $R/apache-${a.name}.codes 2> $R/apache-${a.name}.curl-err
echo "$(date +%T) apache ${a.name}: $(wc -l < $R/apache-${a.name}.codes) requests"`).join('\n')}
${setup.apache.map((a) => `/usr/sbin/apache2 -f ${q(a.conf)} -k stop`).join('\n')}

# PHP-FPM: each master in its profile; its workers change_profile to <profile>//<apparmor_hat> once.
${setup.fpm.map((f) => `aa-exec -p ${f.profile} -- /usr/sbin/php-fpm8.2 -F -R -y ${q(f.conf)} > $R/fpm/${f.name}.out 2>&1 &
echo $! > $R/fpm/${f.name}.pid`).join('\n')}
# wait until every master says it is ready (pools whose workers exit 70 keep respawning meanwhile)
for i in $(seq 1 180); do
  n=0; for f in ${setup.fpm.map((f) => q(f.log)).join(' ')}; do grep -q 'ready to handle connections' $f 2>/dev/null && n=$((n+1)); done
  [ $n -ge ${setup.fpm.length} ] && break; sleep 0.5
done
sleep 1
${setup.fpm.map((f) => `m=$(cat $R/fpm/${f.name}.pid)
for p in $m $(ps -o pid= --ppid $m); do
  label=''; read -r label < /proc/$p/attr/current 2>/dev/null || label='(gone)'
  printf '%s\\t%s\\t%s\\n' "$p" "$label" "$(tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null)"
done > $R/fpm/${f.name}.processes`).join('\n')}
${setup.fpm.map((f) => `kill -TERM $(cat $R/fpm/${f.name}.pid)`).join('\n')}
sleep 1
echo "$(date +%T) guest-done"
`;
}
