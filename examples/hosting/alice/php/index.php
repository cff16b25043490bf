<?php
// alice.localhost's PHP page, run by the PHP-FPM master hatter serve starts for this site (when
// php-fpm is installed). It shows the confinement from the inside: the label the kernel gives this
// process, and what happens when it reads its own site's secret and then the other site's.
$site = 'alice.localhost';
$own = __DIR__ . '/../secret.txt';
$other = __DIR__ . '/../../bob/secret.txt';

function attempt(string $file): string {
    $text = @file_get_contents($file);
    if ($text !== false) return 'READ: ' . trim($text);
    $error = error_get_last();
    return 'DENIED: ' . ($error['message'] ?? 'unreadable');
}

$label = @file_get_contents('/proc/self/attr/current');
header('Content-Type: text/plain; charset=utf-8');
$user = function_exists('posix_geteuid') ? (posix_getpwuid(posix_geteuid())['name'] ?? posix_geteuid()) : get_current_user();
echo "PHP ", PHP_VERSION, " on $site (pid ", getmypid(), ", user $user)\n";
echo "AppArmor label: ", $label === false ? '(unreadable)' : trim($label), "\n";
echo "own secret (alice/secret.txt): ", attempt($own), "\n";
$stolen = attempt($other);
echo "other site's secret (bob/secret.txt): ", $stolen, "\n";
echo str_starts_with($stolen, 'DENIED')
    ? "Confined: the kernel keeps this site's PHP out of bob's files (AppArmor hat or Landlock ruleset).\n"
    : "NOT confined: this PHP read another site's secret (backend none?).\n";
