// Automata as bytes, for the compile cache: a compact little-endian layout of the typed arrays that
// decodes without parsing text. Decoding validates every index (a corrupt or forged entry must fail to
// decode, never yield an automaton that reads out of bounds or answers differently).
import type { AareKind } from './parse.js';
import type { Automaton } from './automaton.js';

const MAGIC = 0x46444148; // 'HADF'
/** Bump when the layout (or the meaning of a field) changes. */
const FORMAT = 1;
const HEADER_WORDS = 8;
const UNIVERSES: readonly AareKind[] = ['path', 'glob_null'];

/** The automaton's bytes: header, classOf, transitions, acceptIndex, acceptSets (offsets, then ids). */
export function serializeAutomaton(automaton: Automaton): Uint8Array {
  const { classCount, stateCount, acceptSets } = automaton;
  const idCount = acceptSets.reduce((n, set) => n + set.length, 0);
  const words = HEADER_WORDS + 64 + stateCount * classCount + stateCount + acceptSets.length + 1 + idCount;
  const out = new Int32Array(words);
  out.set([MAGIC, FORMAT, UNIVERSES.indexOf(automaton.universe), classCount, stateCount, automaton.start, acceptSets.length, idCount]);
  let at = HEADER_WORDS;
  new Uint8Array(out.buffer, at * 4, 256).set(automaton.classOf);
  at += 64;
  out.set(automaton.transitions.subarray(0, stateCount * classCount), at);
  at += stateCount * classCount;
  out.set(automaton.acceptIndex.subarray(0, stateCount), at);
  at += stateCount;
  let offset = 0;
  for (const set of acceptSets) { out[at++] = offset; offset += set.length; }
  out[at++] = offset;
  for (const set of acceptSets) for (const id of set) out[at++] = id;
  return new Uint8Array(out.buffer);
}

/**
 * The automaton encoded by `serializeAutomaton`, or undefined when the bytes are not a well-formed
 * encoding (wrong magic or format, truncated, or any index out of range).
 */
export function deserializeAutomaton(bytes: Uint8Array): Automaton | undefined {
  if (bytes.byteLength % 4 !== 0 || bytes.byteLength < (HEADER_WORDS + 64) * 4) return undefined;
  // Copy into an aligned buffer we own: the caller's bytes may be a view at any offset, and the
  // automaton must not change if the caller reuses them.
  const words = new Int32Array(bytes.byteLength / 4);
  new Uint8Array(words.buffer).set(bytes);
  const [magic, format, universeIndex, classCount, stateCount, start, setCount, idCount] = words as unknown as number[];
  if (magic !== MAGIC || format !== FORMAT) return undefined;
  const universe = UNIVERSES[universeIndex!];
  if (!universe || !(classCount! >= 1 && classCount! <= 256) || !(stateCount! >= 1) || !(start! >= 0 && start! < stateCount!)) return undefined;
  if (!(setCount! >= 1) || !(idCount! >= 0)) return undefined;
  const cells = stateCount! * classCount!;
  if (words.length !== HEADER_WORDS + 64 + cells + stateCount! + setCount! + 1 + idCount!) return undefined;
  let at = HEADER_WORDS;
  const classOf = new Uint8Array(words.buffer, at * 4, 256).slice();
  for (let b = 0; b < 256; b++) if (classOf[b]! >= classCount!) return undefined;
  at += 64;
  const transitions = words.slice(at, at + cells);
  // Read as unsigned, a negative index is huge: one comparison per cell.
  const unsigned = new Uint32Array(transitions.buffer, transitions.byteOffset, cells);
  for (let i = 0; i < cells; i++) if (unsigned[i]! >= stateCount!) return undefined;
  at += cells;
  const acceptIndex = words.slice(at, at + stateCount!);
  for (let s = 0; s < stateCount!; s++) if (acceptIndex[s]! < 0 || acceptIndex[s]! >= setCount!) return undefined;
  // State 0 is the dead state everywhere in the engine: it loops to itself and accepts nothing.
  if (acceptIndex[0] !== 0) return undefined;
  for (let c = 0; c < classCount!; c++) if (transitions[c] !== 0) return undefined;
  at += stateCount!;
  const offsets = words.subarray(at, at + setCount! + 1);
  at += setCount! + 1;
  if (offsets[0] !== 0 || offsets[setCount!] !== idCount) return undefined;
  const acceptSets: number[][] = [];
  for (let i = 0; i < setCount!; i++) {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    if (to < from || to > idCount!) return undefined;
    const set = Array.from(words.subarray(at + from, at + to));
    for (let j = 1; j < set.length; j++) if (!(set[j - 1]! < set[j]!)) return undefined; // ascending ids
    if (set.length && set[0]! < 0) return undefined;
    acceptSets.push(set);
  }
  if (acceptSets[0]!.length !== 0) return undefined;
  return { universe, classOf, classCount: classCount!, stateCount: stateCount!, start: start!, transitions, acceptIndex, acceptSets };
}
