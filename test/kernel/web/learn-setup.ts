// The classic complain-mode workflow on the original system (issue #19, real kernel; used by
// test/kernel/learn.test.ts). Written into the shared work directory on the host:
//   - Apache prefork + mod_php + mod_apparmor with two vhosts, alice.test and bob.test, whose
//     AADefaultHatName hats (^alice, ^bob) start EMPTY in complain mode under an enforce parent; a third
//     vhost blog.test passes PHP to a php-fpm pool over FastCGI (mod_proxy_fcgi);
//   - php-fpm with pool `myblog` whose apparmor_hat names a hat that does not exist yet, under a master
//     profile in complain mode without the change_profile and signal rules the workers need (the
//     learning-label case: learn must add the hat and rewrite the `null-` rules);
//   - each site has index.php (reads its own data), upload.php (a PHP upload into its uploads/),
//     helper.php (runs a helper through /bin/sh), show.php (a file viewer with a path traversal hole:
//     the workload asks it for data.txt; after learning, in enforce mode, bob's is asked for
//     ../alice/secret.txt, which must be DENIED) and a secret.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LEARN_APACHE_PROFILE = 'kweb-learn-apache';
export const LEARN_FPM_PROFILE = 'kweb-learn-fpm';
export const LEARN_SITES = ['alice', 'bob', 'myblog'] as const;
export type LearnSite = (typeof LEARN_SITES)[number];

export interface LearnSetup {
  readonly work: string;
  readonly apacheConf: string;
  readonly fpmConf: string;
  readonly apachePolicy: string;
  readonly fpmPolicy: string;
  readonly port: number;
  readonly fpmPort: number;
  readonly siteRoot: (site: LearnSite) => string;
  readonly secretOf: (site: LearnSite) => string;
}

const PHP: Record<string, string> = {
  'index.php': '<?php echo "index ", trim(file_get_contents(__DIR__ . "/data.txt")), " ", trim(file_get_contents("/proc/self/attr/current")), "\\n";\n',
  'upload.php': '<?php $f = $_FILES["upload"] ?? null;\n'
    + 'if (!$f || $f["error"] !== UPLOAD_ERR_OK) { http_response_code(400); exit("no upload\\n"); }\n'
    + '$to = __DIR__ . "/uploads/" . basename($f["name"]);\n'
    + 'echo move_uploaded_file($f["tmp_name"], $to) ? "stored " . filesize($to) . "\\n" : "move failed\\n";\n',
  'helper.php': '<?php echo "helper ", trim(shell_exec("/bin/sh -c \'tr a-z A-Z < " . __DIR__ . "/data.txt\'") ?? "(failed)"), "\\n";\n',
  // a file viewer with a path traversal hole: the workload asks it for data.txt, an attacker for ../alice/secret.txt
  'show.php': '<?php $s = @file_get_contents(__DIR__ . "/" . ($_GET["f"] ?? "data.txt")); echo $s === false ? "denied\\n" : "show $s";\n',
};

export function generateLearnSetup(work: string, port: number): LearnSetup {
  const fpmPort = port + 1;
  const siteRoot = (site: LearnSite): string => join(work, 'sites', site);
  const secretOf = (site: LearnSite): string => join(siteRoot(site), 'secret.txt');
  for (const site of LEARN_SITES) {
    mkdirSync(join(siteRoot(site), 'uploads'), { recursive: true });
    chmodSync(join(siteRoot(site), 'uploads'), 0o777); // Apache's and php-fpm's workers run as www-data
    writeFileSync(join(siteRoot(site), 'data.txt'), `data of ${site}\n`);
    writeFileSync(secretOf(site), `secret of ${site}\n`);
    for (const [name, text] of Object.entries(PHP)) writeFileSync(join(siteRoot(site), name), text);
  }
  writeFileSync(join(work, 'upload.jpg'), Buffer.alloc(2048, 0x5a));
  chmodSync(work, 0o755);

  const modules = '/usr/lib/apache2/modules';
  const apacheConf = join(work, 'httpd.conf');
  mkdirSync(join(work, 'logs'), { recursive: true });
  const vhost = (site: LearnSite, handler: string): string => [
    `<VirtualHost 127.0.0.1:${port}>`, `  ServerName ${site}.test`, `  DocumentRoot ${siteRoot(site)}`, `  AADefaultHatName ${site === 'myblog' ? 'blogfront' : site}`,
    `  <Directory ${siteRoot(site)}>`, '    Require all granted', '    <FilesMatch "\\.php$">', `      SetHandler ${handler}`, '    </FilesMatch>', '  </Directory>',
    '</VirtualHost>',
  ].join('\n');
  writeFileSync(apacheConf, [
    'ServerRoot /etc/apache2', `Listen 127.0.0.1:${port}`, 'PidFile /run/kweb-learn/httpd.pid', 'Mutex file:/run/kweb-learn default',
    `ErrorLog ${work}/logs/error.log`, 'LogLevel warn',
    ...['mpm_prefork:mod_mpm_prefork', 'authz_core:mod_authz_core', 'php:libphp8.2', 'apparmor:mod_apparmor', 'proxy:mod_proxy', 'proxy_fcgi:mod_proxy_fcgi'].map((m) => {
      const [id, file] = m.split(':');
      return `LoadModule ${id}_module ${modules}/${file}.so`;
    }),
    'StartServers 1', 'MinSpareServers 1', 'MaxSpareServers 2', 'MaxRequestWorkers 3', 'User www-data', 'Group www-data',
    'ServerName localhost', `DocumentRoot ${join(work, 'sites')}`,
    vhost('alice', 'application/x-httpd-php'), vhost('bob', 'application/x-httpd-php'), vhost('myblog', `"proxy:fcgi://127.0.0.1:${fpmPort}"`), '',
  ].join('\n'));

  const apachePolicy = join(work, 'policy', 'apache');
  const fpmPolicy = join(work, 'policy', 'php-fpm');
  mkdirSync(join(work, 'policy'), { recursive: true });
  // The parent and the hats Apache needs around requests are given; the site hats are what learn fills.
  // No abstractions in them: compiling abstractions/base per hat costs tens of seconds under emulation.
  const broad = ['network,', 'unix,', 'signal,', '/** rwkm,'];
  writeFileSync(apachePolicy, [
    'abi <abi/3.0>,', 'include <tunables/global>', '',
    // attach_disconnected: Apache and php-fpm map shared memory whose path is disconnected
    // ("Failed name lookup - disconnected path"); attached, they show as `/`, hence `/ rw`.
    `profile ${LEARN_APACHE_PROFILE} flags=(attach_disconnected) {`,
    '  capability,', '  network,', '  signal,', '  unix,', '  / rw,', '  /** rwmlk,', '  /usr/** mrix,', '',
    ...['HANDLING_UNTRUSTED_INPUT', 'DEFAULT_URI', 'blogfront'].flatMap((hat) => [`  ^${hat} {`, ...broad.map((r) => `    ${r}`), '  }', '']),
    '  # the two sites: empty, learning', '  ^alice flags=(complain) {', '  }', '', '  ^bob flags=(complain) {', '  }',
    '}', '',
  ].join('\n'));
  // The master in complain mode, without `change_profile -> kweb-learn-fpm//*` and `signal peer=...`.
  writeFileSync(fpmPolicy, [
    'abi <abi/3.0>,', 'include <tunables/global>', '',
    `profile ${LEARN_FPM_PROFILE} flags=(attach_disconnected, complain) {`,
    '  capability,', '  network,', '  unix,', '  / rw,', '  /** rwmlk,', '  /usr/** mrix,',
    '}', '',
  ].join('\n'));
  const fpmConf = join(work, 'php-fpm.conf');
  writeFileSync(fpmConf, [
    '[global]', 'pid = /run/kweb-learn-fpm.pid', `error_log = ${work}/logs/fpm.log`, 'daemonize = no', '',
    '[myblog]', 'user = www-data', 'group = www-data', `listen = 127.0.0.1:${fpmPort}`, 'pm = static', 'pm.max_children = 1',
    `chdir = ${siteRoot('myblog')}`, 'apparmor_hat = myblog', '',
  ].join('\n'));
  return { work, apacheConf, fpmConf, apachePolicy, fpmPolicy, port, fpmPort, siteRoot, secretOf };
}
