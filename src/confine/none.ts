// Backend `none`: workers run unconfined. Only ever chosen explicitly; says so loudly.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { labelOf, type BackendAvailability, type ConfinementBackend, type ConfinementRequest, type PreparedConfinement } from './backend.js';
import type { Diagnostic } from '../policy/index.js';

export const UNCONFINED_WARNING = 'UNCONFINED: backend none applies no kernel confinement; every site can read and write whatever the server user can';

export class NoneBackend implements ConfinementBackend {
  readonly name = 'none' as const;

  async probe(): Promise<BackendAvailability> {
    return { available: true, reason: 'always available (applies no confinement)', details: {} };
  }

  async prepare(request: ConfinementRequest): Promise<{ prepared?: PreparedConfinement; diagnostics: readonly Diagnostic[] }> {
    const label = labelOf(request);
    return {
      prepared: {
        backend: 'none',
        label,
        summary: { backend: 'none', confined: false, uid: request.uid ?? null, gid: request.gid ?? null },
        warnings: [`${label}: ${UNCONFINED_WARNING}`],
      },
      diagnostics: [],
    };
  }

  spawn(prepared: PreparedConfinement, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    if (prepared.backend !== 'none') throw new Error(`backend none cannot spawn a ${prepared.backend} confinement`);
    return spawn(command, [...args], options);
  }

  async verify(_prepared: PreparedConfinement, _pid: number): Promise<{ readonly ok: boolean; readonly detail: string }> {
    return { ok: true, detail: 'unconfined (backend none)' };
  }
}
