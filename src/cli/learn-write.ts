// The file edge of `hatter learn`: show the changes applyEdits() computed as a unified diff, and write
// them only when the changed tree still loads (hatter's checker, then apparmor_parser -QK when
// installed), no file changed on disk since it was read, and every existing file has a backup.
//
// Backups are hidden files next to the original (`.NAME.hatter-bak`, then `.NAME.hatter-bak.1` …):
// apparmor_parser and hatter skip names that start with a dot in directory includes and when loading
// /etc/apparmor.d, so a backup can never become a second definition of the profile it saves.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { decodeSource, encodeSource, type Diagnostic } from '../policy/diagnostic/index.js';
import { loadPolicy } from '../policy/load/index.js';
import type { FileReader } from '../policy/resolve/index.js';
import type { FileChange } from '../learn/edit-model.js';
import { nodeFileReader } from '../policy-node/index.js';
import { writeFileAtomic } from './atomic-write.js';
import { unifiedDiff } from './line-diff.js';

/** All changes as one unified diff (`--- a/FILE` / `+++ b/FILE`, 3 lines of context; `/dev/null` for new files). */
export function previewChanges(changes: readonly FileChange[]): string {
  return changes.map((c) => unifiedDiff(c.before, c.after, c.file)).join('');
}

export interface WriteOptions {
  /** The policy files to validate with the changes applied (the entry learn loaded, e.g. /etc/apparmor.d/php-fpm). */
  readonly entries: readonly string[];
  /** Include search path, as the policy was loaded (default /etc/apparmor.d). */
  readonly includeDirs?: readonly string[];
  /** Base of relative includes (default `/`). */
  readonly workingDirectory?: string;
  /** Backup name suffix; the backup of DIR/NAME is DIR/.NAME<suffix> (default `.hatter-bak`). */
  readonly backupSuffix?: string;
  /** Check the changed tree before writing (default true). `false` is for callers that validated already. */
  readonly validate?: boolean;
  /** apparmor_parser to run with -QK: a path, `false` to skip, or undefined to use it when it is on PATH. */
  readonly apparmorParser?: string | false;
}

export interface WriteResult {
  /** 0 written (or nothing to write), 2 refused: nothing was written. */
  readonly exitCode: 0 | 2;
  readonly written: readonly string[];
  /** Backup path of each existing file that was replaced. */
  readonly backups: ReadonlyMap<string, string>;
  /** Why writing was refused, or warnings of the check. */
  readonly diagnostics: readonly Diagnostic[];
}

const DEFAULT_INCLUDE_DIRS = ['/etc/apparmor.d'];

/** Validate, then back up and write every change atomically; refuse (writing nothing) on any problem. */
export function writeChanges(changes: readonly FileChange[], options: WriteOptions): WriteResult {
  const refused = (diagnostics: readonly Diagnostic[]): WriteResult => ({ exitCode: 2, written: [], backups: new Map(), diagnostics });
  if (changes.length === 0) return { exitCode: 0, written: [], backups: new Map(), diagnostics: [] };

  const encodings = new Map<string, 'utf8' | 'latin1'>();
  const stale: Diagnostic[] = [];
  for (const change of changes) {
    const current = readCurrent(change.file);
    if (current?.text !== change.before) {
      stale.push(problem(change.file, 'learn-edit/changed-on-disk', change.before === undefined
        ? 'this file appeared since the policy was read; not overwriting it (run hatter learn again)'
        : current === undefined ? 'this file disappeared since the policy was read; not writing (run hatter learn again)'
          : 'this file changed since the policy was read; not overwriting it (run hatter learn again)'));
    }
    encodings.set(change.file, current?.encoding ?? 'utf8');
  }
  if (stale.length) return refused(stale);

  if (options.validate !== false) {
    const problems = validate(changes, options);
    if (problems.some((d) => d.severity === 'error')) return refused(problems);
  }

  const backups = new Map<string, string>();
  const written: string[] = [];
  try {
    for (const change of changes) {
      if (change.before === undefined) continue;
      const backup = freeBackupPath(change.file, options.backupSuffix ?? '.hatter-bak');
      copyFileSync(change.file, backup);
      backups.set(change.file, backup);
    }
    for (const change of changes) {
      if (change.before === undefined) mkdirSync(dirname(change.file), { recursive: true });
      writeFileAtomic(change.file, encodeSource(change.after, encodings.get(change.file) ?? 'utf8'));
      written.push(change.file);
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const failed = changes[written.length]?.file ?? changes[0]!.file;
    const note = written.length ? ` (already written: ${written.join(', ')}; backups: ${[...backups.values()].join(', ')})` : '';
    return { exitCode: 2, written, backups, diagnostics: [problem(failed, 'learn-edit/write-failed', `cannot write: ${reason}${note}`)] };
  }
  return { exitCode: 0, written, backups, diagnostics: [] };
}

function readCurrent(file: string): { text: string; encoding: 'utf8' | 'latin1' } | undefined {
  try {
    return decodeSource(readFileSync(file));
  } catch {
    return undefined;
  }
}

function freeBackupPath(file: string, suffix: string): string {
  const base = join(dirname(file), `.${basename(file)}${suffix}`);
  if (!existsSync(base)) return base;
  for (let n = 1; ; n++) if (!existsSync(`${base}.${n}`)) return `${base}.${n}`;
}

/** The real file system with the changed texts in place of the files they change. */
function overlayReader(changes: readonly FileChange[]): FileReader {
  const disk = nodeFileReader();
  const changed = new Map(changes.map((c) => [c.file, new TextEncoder().encode(c.after)]));
  const added = changes.filter((c) => c.before === undefined).map((c) => c.file);
  return {
    kind: (path) => (changed.has(path) ? 'file' : disk.kind(path) ?? (added.some((f) => f.startsWith(`${path}/`)) ? 'directory' : undefined)),
    readFile: (path) => changed.get(path) ?? disk.readFile(path),
    listDirectory: (path) => {
      const names = new Set(disk.listDirectory(path) ?? []);
      for (const file of added) if (dirname(file) === path) names.add(basename(file));
      return names.size || disk.kind(path) === 'directory' ? [...names] : undefined;
    },
  };
}

/** hatter's own load and check of each entry with the changes applied, then apparmor_parser -QK on a scratch copy. */
function validate(changes: readonly FileChange[], options: WriteOptions): Diagnostic[] {
  const reader = overlayReader(changes);
  const includePaths = options.includeDirs?.length ? options.includeDirs : DEFAULT_INCLUDE_DIRS;
  const diagnostics: Diagnostic[] = [];
  const filesRead = new Set<string>();
  for (const entry of options.entries) {
    const loaded = loadPolicy(entry, reader, { includePaths, workingDirectory: options.workingDirectory ?? '/' });
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) {
      diagnostics.push(problem(entry, 'learn-edit/check-failed', `with the changes applied, ${entry} does not pass hatter check (${errors.length} error${errors.length === 1 ? '' : 's'} below); nothing was written`), ...errors);
      continue;
    }
    for (const file of loaded.resolved.files) filesRead.add(file);
    if (loaded.resolved.abi) filesRead.add(loaded.resolved.abi);
  }
  if (diagnostics.length) return diagnostics;
  const parser = options.apparmorParser === undefined ? findOnPath('apparmor_parser') : options.apparmorParser || undefined;
  if (parser) diagnostics.push(...runApparmorParser(parser, [...filesRead], reader, options.entries, includePaths));
  return diagnostics;
}

/** apparmor_parser -QK over a scratch mirror of every file the load read (with the changes), -I pointed into it. */
function runApparmorParser(parser: string, files: readonly string[], reader: FileReader, entries: readonly string[], includePaths: readonly string[]): Diagnostic[] {
  const scratch = mkdtempSync(join(tmpdir(), 'hatter-learn-'));
  try {
    for (const file of files) {
      const bytes = reader.readFile(file);
      if (!bytes) continue;
      mkdirSync(join(scratch, dirname(file)), { recursive: true });
      writeFileSync(join(scratch, file), bytes);
    }
    const out: Diagnostic[] = [];
    for (const entry of entries) {
      const args = ['-QK', ...includePaths.flatMap((dir) => ['-I', join(scratch, dir)]), '--base', join(scratch, includePaths[0]!), join(scratch, entry)];
      const run = spawnSync(parser, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 24 });
      if (run.error) {
        out.push(problem(entry, 'learn-edit/apparmor-parser-failed', `could not run ${parser}: ${run.error.message}; nothing was written`));
      } else if (run.status !== 0) {
        const reason = (run.stderr || run.stdout).split(scratch).join('').trim().split('\n').slice(0, 5).join(' / ');
        out.push(problem(entry, 'learn-edit/apparmor-parser-rejected', `apparmor_parser -QK rejects ${entry} with the changes applied: ${reason}; nothing was written`));
      }
    }
    return out;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

function problem(file: string, code: string, message: string): Diagnostic {
  return { file, line: 1, col: 1, severity: 'error', code, message };
}
