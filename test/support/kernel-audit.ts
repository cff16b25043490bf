// Tests that need the kernel's Landlock audit records (Linux 6.15+, Landlock ABI 7): switch the kernel's
// audit on when it is off (root only; a TEST helper: hatter itself never switches the host's audit on, it
// tells the user `auditctl -e 1`), or say why not.
import { spawnSync } from 'node:child_process';
import { createBackend, findLauncher, kernelAuditEnabled } from '../../src/confine/index.js';

// AUDIT_SET (1001) with audit_status { mask = AUDIT_STATUS_ENABLED, enabled = 1 } over NETLINK_AUDIT (9).
const ENABLE_AUDIT = `
import socket, struct, os
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)
status = struct.pack('=10I', 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
s.sendto(struct.pack('=IHHII', 16 + len(status), 1001, 5, 1, 0) + status, (0, 0))
reply = s.recv(8192)
length, kind = struct.unpack('=IH', reply[:6])
error = struct.unpack('=i', reply[16:20])[0] if kind == 2 else 0
raise SystemExit(0 if error == 0 else 1)
`;

/** Why kernel Landlock denials cannot be had here, or undefined when they can (audit now on). */
export async function kernelLandlockAuditUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root (reading /dev/kmsg and the kernel audit switch need root)';
  const probe = await createBackend('landlock').probe();
  if (!probe.available) return `Landlock is not available (${probe.reason})`;
  const abi = Number(probe.details?.['abi'] ?? 0);
  if (abi < 7) return `Landlock ABI ${abi} writes no audit records (needs 7, Linux 6.15+)`;
  if (kernelAuditEnabled(findLauncher()) === true) return undefined;
  const run = spawnSync('python3', ['-c', ENABLE_AUDIT], { timeout: 10_000 });
  if (run.status !== 0) return 'the kernel audit is off and could not be switched on (auditctl -e 1)';
  return kernelAuditEnabled(findLauncher()) === false ? 'the kernel audit is off (auditctl -e 1)' : undefined;
}
