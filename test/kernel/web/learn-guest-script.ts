// The guest side of the learn workflow boot (test/kernel/learn.test.ts): one bash script, three phases.
//   learn    policies loaded (site hats empty in complain mode, php-fpm master in complain mode), the
//            workload runs against alice.test, bob.test and myblog.test; the kernel log is saved;
//   apply    `hatter learn --apply --write` on that log, inside the guest (it shares the root file
//            system and the build): once for Apache's policy, once for php-fpm's; then every
//            flags=(complain) is removed (the switch to enforce) and the policies are reloaded;
//   enforce  the same workload again, then bob's show.php (a path traversal hole) asked for alice's secret.
// A line `kweb-learn: begin <phase>` goes into the kernel log before each phase.
import type { LearnSetup } from './learn-setup.js';

const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export function learnGuestScript(s: LearnSetup, cli: string): string {
  return `set -u
W=${q(s.work)}
R=$W/results
CLI=${q(cli)}
mkdir -p $R /run/kweb-learn
mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
echo "$(date +%T) kernel $(uname -r)"

start_servers() {
  aa-exec -p kweb-learn-apache -- /usr/sbin/apache2 -f ${q(s.apacheConf)} -k start
  aa-exec -p kweb-learn-fpm -- /usr/sbin/php-fpm8.2 -F -y ${q(s.fpmConf)} > /dev/null 2>&1 &
  FPM=$!
  # listening is enough: an HTTP probe would run in a site's hat, which may deny it in enforce mode
  for i in $(seq 1 240); do (exec 3<>/dev/tcp/127.0.0.1/${s.port}) 2>/dev/null && break; sleep 0.25; done
  sleep 2
}
stop_servers() {
  /usr/sbin/apache2 -f ${q(s.apacheConf)} -k stop
  kill -QUIT $FPM; wait $FPM
  sleep 1
}
# workload PHASE: pages, an upload and a helper through a shell on every site (responses in $R/PHASE/)
workload() {
  local d=$R/$1 site; mkdir -p $d
  for site in alice bob myblog; do
    curl -s -m 30 -H "Host: $site.test" http://127.0.0.1:${s.port}/index.php > $d/$site-index 2>&1
    curl -s -m 30 -H "Host: $site.test" -F upload=@$W/upload.jpg http://127.0.0.1:${s.port}/upload.php > $d/$site-upload 2>&1
    curl -s -m 30 -H "Host: $site.test" http://127.0.0.1:${s.port}/helper.php > $d/$site-helper 2>&1
    curl -s -m 30 -H "Host: $site.test" http://127.0.0.1:${s.port}/show.php > $d/$site-show 2>&1
  done
  ps -eo pid=,args= | while read -r pid args; do case $args in php-fpm*pool*) read -r l < /proc/$pid/attr/current; echo "$l";; esac; done > $d/fpm-workers
}

apparmor_parser -r ${q(s.apachePolicy)} ${q(s.fpmPolicy)} > $R/load-learn.out 2>&1; echo "load $?" >> $R/load-learn.out
echo "kweb-learn: begin learn" > /dev/kmsg; echo "$(date +%T) learn"
start_servers
workload learn
stop_servers
dmesg > $R/learn.log

echo "kweb-learn: begin apply" > /dev/kmsg; echo "$(date +%T) apply"
cp -r $W/policy $R/policy-before
# --- the learn step (issue #19): hatter learn on the complain-mode log, safest default of every group ---
node $CLI learn $R/learn.log --policy ${q(s.apachePolicy)} --apache ${q(s.apacheConf)} --apply --write --load > $R/learn-apache.out 2>&1; echo $? > $R/learn-apache.exit
node $CLI learn $R/learn.log --policy ${q(s.fpmPolicy)} --fpm ${q(s.fpmConf)} --apply --write --load > $R/learn-fpm.out 2>&1; echo $? > $R/learn-fpm.exit
echo "$(date +%T) learned"
# --- end of the learn step ---
# --load removed the pool's learning profile, which the kernel knew by the new hat's name (confine/kernel-load.ts)
grep '^kweb-learn' /sys/kernel/security/apparmor/profiles > $R/profiles-learned
sed -i -e 's/ flags=(complain)//' -e 's/, complain)/)/' ${q(s.apachePolicy)} ${q(s.fpmPolicy)}
cp -r $W/policy $R/policy-after
apparmor_parser -r ${q(s.apachePolicy)} ${q(s.fpmPolicy)} > $R/load-enforce.out 2>&1; echo "load $?" >> $R/load-enforce.out
grep '^kweb-learn' /sys/kernel/security/apparmor/profiles > $R/profiles-enforce

echo "kweb-learn: begin enforce" > /dev/kmsg; echo "$(date +%T) enforce"
start_servers
workload enforce
echo "kweb-learn: begin steal" > /dev/kmsg; echo "$(date +%T) steal"
curl -s -m 30 -H "Host: bob.test" 'http://127.0.0.1:${s.port}/show.php?f=../alice/secret.txt' > $R/steal 2>&1
stop_servers
echo "$(date +%T) guest-done"
`;
}
