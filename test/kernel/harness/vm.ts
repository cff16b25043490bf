// hatter's real-kernel harness: boot a stock Debian kernel (AppArmor built in) under qemu, with the
// host's root filesystem shared read-only (a tmpfs overlay makes it writable), run one bash script as
// root inside, and return its output, exit status and the guest kernel log.
//
// Recipe and pitfalls: ../shared/docs/testing-with-real-kernels.md. The design follows the measured
// recipe there (TCG, 1 vCPU, 9p root + overlay, PVH boot of an extracted vmlinux, printk rate limit
// off, one command per boot); the code is our own.
//
// Infrastructure problems (no qemu, no kernel package, boot hang) are reported as `unavailable`,
// `vm-failure` or `timeout`, never as a failing hatter test: callers skip on those.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync,
  renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export interface VmOptions {
  /** Where prepared kernels are cached (HATTER_VM_CACHE, default ~/.cache/hatter-vm). */
  readonly cacheDir?: string;
  /** Debian kernel package name (HATTER_VM_KERNEL_PKG, default: what linux-image-amd64 depends on). */
  readonly kernelPackage?: string;
  /** A local linux-image .deb instead of `apt-get download` (HATTER_VM_KERNEL_DEB). */
  readonly kernelDeb?: string;
  /** Host directories mounted read-write at the same path in the guest. */
  readonly shares?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
}

export type VmStatus = 'ok' | 'timeout' | 'vm-failure' | 'unavailable';

export interface VmResult {
  readonly status: VmStatus;
  /** The script's exit status (128+N when killed by signal N); null unless status is 'ok'. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The guest's kernel log (dmesg), including every AppArmor audit line. */
  readonly dmesg: string;
  /** Kernel release of the guest, e.g. 6.1.0-56-amd64. */
  readonly kernel: string;
  readonly durationMs: number;
  /** One line saying why, for anything but 'ok'. */
  readonly reason?: string;
}

interface PreparedKernel {
  readonly dir: string;
  readonly release: string;
  readonly image: string;
}

const modulesWanted = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Where prepared kernels (and other state kept between runs, e.g. apparmor_parser caches) live. */
export function cacheRoot(options: VmOptions = {}): string {
  return options.cacheDir ?? process.env.HATTER_VM_CACHE ?? join(homedir() || tmpdir(), '.cache', 'hatter-vm');
}

function staticBusybox(): string | undefined {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(candidate)) continue;
    const ldd = spawnSync('ldd', [candidate], { encoding: 'utf8' });
    if (`${ldd.stdout}${ldd.stderr}`.includes('not a dynamic')) return candidate;
  }
  return undefined;
}

/** Why the harness cannot run here, or undefined when it can. */
export function unavailableReason(options: VmOptions = {}): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `needs an x86_64 Linux host (this is ${process.platform}/${process.arch})`;
  if (!have('qemu-system-x86_64')) return 'qemu-system-x86_64 not installed (apt-get install qemu-system-x86)';
  if (!staticBusybox()) return 'static busybox not installed (apt-get install busybox-static)';
  if (!have('cpio')) return 'cpio not installed (apt-get install cpio)';
  if (!have('dpkg-deb')) return 'dpkg-deb not available (a Debian-like host is needed)';
  if (!(options.kernelDeb ?? process.env.HATTER_VM_KERNEL_DEB) && !have('apt-get')) return 'no apt-get to fetch a kernel package (set HATTER_VM_KERNEL_DEB)';
  if (!have('apparmor_parser')) return 'apparmor_parser not installed on the host (apt-get install apparmor); the guest uses the host userspace';
  return undefined;
}

function kernelPackage(options: VmOptions): string | { error: string } {
  const explicit = options.kernelPackage ?? process.env.HATTER_VM_KERNEL_PKG;
  if (explicit) return explicit;
  const deb = options.kernelDeb ?? process.env.HATTER_VM_KERNEL_DEB;
  if (deb) return basename(deb).replace(/_.*$/, '');
  const depends = spawnSync('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8' });
  const match = /Depends:\s+(linux-image-[0-9]\S*)/.exec(depends.stdout ?? '');
  if (!match) return { error: 'cannot find the Debian kernel package (run apt-get update, or set HATTER_VM_KERNEL_PKG)' };
  return match[1]!;
}

// Stage 1 runs as PID 1 in the initramfs: load modules, build the overlay root, switch_root.
const stage1 = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "hatter-vm init: $*" > /dev/kmsg; poweroff -f; }
while read -r m; do insmod /lib/modules/$m.ko || fail "insmod $m"; done < /lib/modules/order
O=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /mnt/host /mnt/ctl /mnt/rw
mount -t 9p -o $O,cache=none hvmctl /mnt/ctl || fail "mount ctl"
mount -t 9p -o $O,ro,cache=loose hostroot /mnt/host || fail "mount host root"
mount -t tmpfs -o mode=0755 rw /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work root /newroot || fail "mount overlay"
R=/newroot
mount -t tmpfs -o mode=0755,nosuid,nodev run $R/run
mkdir -p $R/run/hatter-vm/ctl
mount --move /mnt/ctl $R/run/hatter-vm/ctl
while read -r tag path; do
  [ -n "$tag" ] || continue
  mkdir -p "$R$path"
  mount -t 9p -o $O,cache=mmap "$tag" "$R$path" || fail "mount share $path"
done < $R/run/hatter-vm/ctl/shares
for d in proc sys dev; do mkdir -p $R/$d; mount --move /$d $R/$d; done
cp /bin/busybox /stage2 $R/run/hatter-vm/
exec switch_root $R /run/hatter-vm/busybox sh /run/hatter-vm/stage2
`;

// Stage 2 runs as PID 1 on the overlay root: run the script, keep its status and the kernel log.
const stage2 = `B=/run/hatter-vm/busybox
C=/run/hatter-vm/ctl
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
$B mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
$B mkdir -p /dev/pts /dev/shm
$B mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$B mount -t tmpfs -o nosuid,nodev shm /dev/shm
[ -e /dev/fd ] || $B ln -s /proc/self/fd /dev/fd
echo 0 > /proc/sys/kernel/printk_ratelimit
$B hostname hatter-vm
$B ip link set lo up 2>/dev/null
/bin/bash $C/cmd.sh < /dev/null > $C/stdout 2> $C/stderr
echo $? > $C/rc.tmp
$B uname -r > $C/kernel
$B dmesg > $C/dmesg
$B mv $C/rc.tmp $C/rc
$B sync
$B poweroff -f
`;

const stamp = createHash('sha256').update(stage1).update(stage2).update(modulesWanted.join(',')).digest('hex').slice(0, 12);

function run(command: string, args: readonly string[], options: { cwd?: string; input?: Buffer } = {}): { ok: boolean; stdout: Buffer; stderr: string } {
  const result = spawnSync(command, args, { cwd: options.cwd, input: options.input, maxBuffer: 1 << 30 });
  return { ok: result.status === 0, stdout: result.stdout ?? Buffer.alloc(0), stderr: String(result.stderr ?? '') };
}

function findFile(dir: string, test: (name: string) => boolean): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      const found = findFile(path, test);
      if (found) return found;
    } else if (test(name)) return path;
  }
  return undefined;
}

function decompressModule(path: string): Buffer | undefined {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : path.endsWith('.gz') ? 'gzip' : undefined;
  if (!tool) return undefined;
  const result = run(tool, ['-dc', path]);
  return result.ok ? result.stdout : undefined;
}

/** Pull the ELF vmlinux out of a bzImage: booting it via PVH is about 40% faster under TCG. */
function extractVmlinux(bzImage: Buffer): Buffer | undefined {
  const formats: [string, Buffer][] = [
    ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
    ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
    ['gzip', Buffer.from([0x1f, 0x8b, 0x08, 0x00])],
  ];
  for (const [tool, magic] of formats) {
    if (!have(tool)) continue;
    let from = 0;
    for (let tries = 0; tries < 3; tries++) {
      const at = bzImage.indexOf(magic, from);
      if (at < 0) break;
      const out = spawnSync(tool, ['-dc'], { input: bzImage.subarray(at), maxBuffer: 1 << 30 }).stdout;
      if (out && out.length > 4 && out.readUInt32BE(0) === 0x7f454c46) return out;
      from = at + 1;
    }
  }
  return undefined;
}

/** Download and unpack the kernel, build the initramfs; cached per package and harness version. */
export function prepareKernel(options: VmOptions = {}): PreparedKernel | { error: string } {
  const pkg = kernelPackage(options);
  if (typeof pkg !== 'string') return pkg;
  const root = cacheRoot(options);
  const dir = join(root, pkg);
  const infoFile = join(dir, 'info.json');
  if (existsSync(infoFile)) {
    try {
      const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { stamp: string; release: string; image: string };
      if (info.stamp === stamp && existsSync(info.image)) return { dir, release: info.release, image: info.image };
    } catch { /* rebuild */ }
  }
  mkdirSync(root, { recursive: true });
  // Serialize concurrent prepares with an exclusive lock file; a stale lock older than 10 min is broken.
  const lock = join(root, `${pkg}.lock`);
  const deadline = Date.now() + 10 * 60_000;
  let fd: number | undefined;
  while (fd === undefined) {
    try { fd = openSync(lock, 'wx'); } catch {
      try { if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { force: true }); } catch { /* gone */ }
      if (Date.now() > deadline) return { error: `timed out waiting for ${lock}` };
      spawnSync('sleep', ['1']);
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'hatter-vm-prep-'));
  try {
    const deb = options.kernelDeb ?? process.env.HATTER_VM_KERNEL_DEB;
    let debPath: string;
    if (deb) debPath = deb;
    else {
      let fetched = run('apt-get', ['download', '-o', 'APT::Sandbox::User=root', pkg], { cwd: work });
      if (!fetched.ok) fetched = run('apt-get', ['download', pkg], { cwd: work });
      if (!fetched.ok) return { error: `apt-get download ${pkg} failed: ${fetched.stderr.trim().split('\n').pop() ?? ''}` };
      const name = readdirSync(work).find((f) => f.endsWith('.deb'));
      if (!name) return { error: `apt-get download ${pkg} produced no .deb` };
      debPath = join(work, name);
    }
    const tree = join(work, 'x');
    mkdirSync(tree);
    const tar = spawnSync('sh', ['-c', `dpkg-deb --fsys-tarfile "$0" | tar -x -C "$1" --wildcards './boot/vmlinuz-*' './boot/config-*' '*/modules/*/modules.builtin' '*/modules/*/kernel/drivers/virtio/*' '*/modules/*/kernel/net/9p/*' '*/modules/*/kernel/fs/9p/*' '*/modules/*/kernel/fs/netfs/*' '*/modules/*/kernel/fs/fscache/*' '*/modules/*/kernel/fs/overlayfs/*' 2>/dev/null; true`, debPath, tree]);
    if (tar.error) return { error: `cannot unpack ${debPath}: ${tar.error.message}` };
    const bootDir = join(tree, 'boot');
    const vmlinuz = existsSync(bootDir) ? readdirSync(bootDir).find((f) => f.startsWith('vmlinuz-')) : undefined;
    if (!vmlinuz) return { error: `no /boot/vmlinuz-* in ${pkg}` };
    const release = vmlinuz.slice('vmlinuz-'.length);
    const config = readFileSync(join(bootDir, `config-${release}`), 'utf8');
    if (!/^CONFIG_SECURITY_APPARMOR=y$/m.test(config)) return { error: `${pkg} is not built with AppArmor` };
    const moduleDir = [join(tree, 'lib', 'modules', release), join(tree, 'usr', 'lib', 'modules', release)].find((d) => existsSync(d));
    if (!moduleDir) return { error: `no modules for ${release} in ${pkg}` };
    const builtin = existsSync(join(moduleDir, 'modules.builtin')) ? readFileSync(join(moduleDir, 'modules.builtin'), 'utf8') : '';

    const initrd = join(work, 'initrd');
    for (const d of ['bin', 'dev', 'proc', 'sys', 'mnt', 'newroot', 'lib/modules']) mkdirSync(join(initrd, d), { recursive: true });
    copyFileSync(staticBusybox()!, join(initrd, 'bin', 'busybox'));
    chmodSync(join(initrd, 'bin', 'busybox'), 0o755);
    const order: string[] = [];
    const seen = new Set<string>();
    const addModule = (name: string): string | undefined => {
      if (seen.has(name)) return undefined;
      seen.add(name);
      const matches = (file: string) => file === `${name}.ko` || file.startsWith(`${name}.ko.`);
      const path = findFile(join(moduleDir, 'kernel'), matches);
      if (!path) {
        const alt = name.replace(/_/g, '-');
        if (new RegExp(`/(${name}|${alt})\\.ko$`, 'm').test(builtin)) return undefined; // built in
        return `module ${name} not found in ${pkg}`;
      }
      const ko = decompressModule(path);
      if (!ko) return `cannot unpack ${path}`;
      writeFileSync(join(initrd, 'lib', 'modules', `${name}.ko`), ko);
      const depends = /depends=([^\0]*)/.exec(ko.toString('latin1'))?.[1] ?? '';
      for (const dep of depends.split(',').filter(Boolean)) {
        const error = addModule(dep);
        if (error) return error;
      }
      order.push(name);
      return undefined;
    };
    for (const name of modulesWanted) {
      const error = addModule(name);
      if (error) return { error };
    }
    writeFileSync(join(initrd, 'lib', 'modules', 'order'), order.map((m) => `${m}\n`).join(''));
    writeFileSync(join(initrd, 'init'), stage1, { mode: 0o755 });
    writeFileSync(join(initrd, 'stage2'), stage2, { mode: 0o755 });
    const cpio = spawnSync('sh', ['-c', 'find . | LC_ALL=C sort | cpio -o -H newc --quiet'], { cwd: initrd, maxBuffer: 1 << 30 });
    if (cpio.status !== 0) return { error: `cpio failed: ${String(cpio.stderr)}` };

    const staging = `${dir}.new`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'initrd.cpio'), cpio.stdout);
    const bzImage = readFileSync(join(bootDir, vmlinuz));
    writeFileSync(join(staging, 'vmlinuz'), bzImage);
    const elf = extractVmlinux(bzImage);
    if (elf) writeFileSync(join(staging, 'vmlinux'), elf);
    const image = join(dir, elf ? 'vmlinux' : 'vmlinuz');
    writeFileSync(join(staging, 'info.json'), JSON.stringify({ stamp, release, image, package: pkg }));
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    return { dir, release, image };
  } finally {
    rmSync(work, { recursive: true, force: true });
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function qemuValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/** Boot the VM, run `script` with bash as root in the guest, power off. A VM that dies before the
 * script could report is retried once (emulation on a loaded host is occasionally flaky). */
export async function runInVm(script: string, options: VmOptions = {}): Promise<VmResult> {
  const first = await runOnce(script, options);
  if (first.status !== 'vm-failure') return first;
  const second = await runOnce(script, options);
  return second.status === 'vm-failure' ? { ...second, reason: `${second.reason} (also on the first try: ${first.reason})` } : second;
}

async function runOnce(script: string, options: VmOptions = {}): Promise<VmResult> {
  const started = Date.now();
  const fail = (status: VmStatus, reason: string, extra: Partial<VmResult> = {}): VmResult => ({
    status, exitCode: null, stdout: '', stderr: '', dmesg: '', kernel: '', durationMs: Date.now() - started, reason, ...extra,
  });
  const missing = unavailableReason(options);
  if (missing) return fail('unavailable', missing);
  const kernel = prepareKernel(options);
  if ('error' in kernel) return fail('unavailable', kernel.error);

  const runDir = mkdtempSync(join(tmpdir(), 'hatter-vm-run-'));
  const ctl = join(runDir, 'ctl');
  mkdirSync(ctl);
  try {
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', HATTER_VM: '1', ...options.env };
    const lines = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    lines.push(`cd -- ${shellQuote(options.cwd ?? process.cwd())} || exit 125`);
    writeFileSync(join(ctl, 'script'), script);
    lines.push('exec /bin/bash /run/hatter-vm/ctl/script');
    writeFileSync(join(ctl, 'cmd.sh'), `${lines.join('\n')}\n`);
    const shares = options.shares ?? [];
    writeFileSync(join(ctl, 'shares'), shares.map((s, i) => `s${i} ${s}\n`).join(''));

    const args = [
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      // Software emulation: on PVM hosts /dev/kvm only runs PVM guest kernels (see the recipe).
      '-machine', 'pc,accel=tcg', '-cpu', 'max', '-m', String(options.memoryMb ?? 1024), '-smp', '1',
      '-nic', 'none',
      '-fsdev', 'local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap',
      '-device', 'virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot',
      '-fsdev', `local,id=fsctl,path=${qemuValue(ctl)},security_model=none`,
      '-device', 'virtio-9p-pci,fsdev=fsctl,mount_tag=hvmctl',
    ];
    shares.forEach((share, i) => {
      args.push('-fsdev', `local,id=fs${i},path=${qemuValue(share)},security_model=none,multidevs=remap`,
        '-device', `virtio-9p-pci,fsdev=fs${i},mount_tag=s${i}`);
    });
    args.push(
      '-kernel', kernel.image, '-initrd', join(kernel.dir, 'initrd.cpio'),
      '-append', // no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can fail and panic.
      'console=ttyS0 loglevel=4 panic=-1 mitigations=off cryptomgr.notests pci=noacpi no_timer_check log_buf_len=16M apparmor=1 security=apparmor',
      '-serial', `file:${join(runDir, 'console')}`,
    );
    const timeoutMs = options.timeoutMs ?? 600_000;
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let qemuStderr = '';
    qemu.stderr.on('data', (chunk: Buffer) => { qemuStderr += chunk.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; qemu.kill('SIGKILL'); }, timeoutMs);
    await new Promise<void>((resolve) => { qemu.once('exit', () => resolve()); qemu.once('error', () => resolve()); });
    clearTimeout(timer);

    const read = (name: string) => (existsSync(join(ctl, name)) ? readFileSync(join(ctl, name), 'utf8') : '');
    const partial = { stdout: read('stdout'), stderr: read('stderr'), dmesg: read('dmesg'), kernel: read('kernel').trim() || kernel.release };
    if (timedOut) return fail('timeout', `the VM did not finish within ${Math.round(timeoutMs / 1000)} s`, partial);
    if (!existsSync(join(ctl, 'rc'))) {
      const consoleText = read('../console');
      const panic = /Kernel panic[^\n]*/.exec(consoleText)?.[0];
      const consoleTail = panic ?? consoleText.split('\n').slice(-5).join(' | ');
      return fail('vm-failure', `the VM stopped without a result (qemu: ${qemuStderr.trim().split('\n').pop() ?? ''}; console: ${consoleTail})`, partial);
    }
    return { status: 'ok', exitCode: Number(read('rc').trim()), ...partial, durationMs: Date.now() - started };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}
