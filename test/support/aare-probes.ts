// Probe strings for one AARE pattern, built from the pattern's own pieces (every alternative, empty
// and one-character expansions of globs, `/` and NUL edge cases, trailing slashes, near misses), and
// random tricky patterns for the differential test. Probes are latin1 byte strings.
import fc from 'fast-check';
import type { AareAst, AareNode } from '../../src/policy/aare/index.js';

/** A small deterministic PRNG (mulberry32) so probe sets are stable between runs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FILLERS = ['a', 'b', '/', '\u0000', '.', '\u00c3', 'Z'];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function expand(sequence: readonly AareNode[], random: () => number, variant: number): string {
  let out = '';
  for (const node of sequence) {
    switch (node.kind) {
      case 'Literal':
        out += String.fromCharCode(node.byte);
        break;
      case 'AnyChar':
        out += pick(random, FILLERS);
        break;
      case 'Star': {
        const n = Math.floor(random() * 3);
        for (let i = 0; i < n; i++) out += random() < 0.7 ? pick(random, ['a', 'b', '.']) : pick(random, FILLERS);
        break;
      }
      case 'Class': {
        const r = random();
        if (r < 0.5 && node.ranges.length) {
          const [lo, hi] = pick(random, node.ranges);
          out += String.fromCharCode(lo + Math.floor(random() * (hi - lo + 1)));
        } else if (r < 0.8 && node.ranges.length) {
          const [lo, hi] = pick(random, node.ranges);
          out += String.fromCharCode(random() < 0.5 ? Math.max(0, lo - 1) : Math.min(255, hi + 1));
        } else {
          out += pick(random, FILLERS);
        }
        break;
      }
      case 'Alternation': {
        const index = (variant + Math.floor(random() * node.alternatives.length)) % node.alternatives.length;
        out += expand(node.alternatives[index]!, random, variant + 1);
        break;
      }
    }
  }
  return out;
}

/** Probe strings (latin1, one char per byte) for a parsed pattern. */
export function probesFor(ast: AareAst, seed: number, samples = 14): string[] {
  const random = rng(seed);
  const probes = new Set<string>(['', '/', '//']);
  for (let variant = 0; variant < samples; variant++) {
    const s = expand(ast.sequence, random, variant);
    probes.add(s);
    probes.add(`${s}/`);
    probes.add(`${s}a`);
    if (s.length) probes.add(s.slice(0, -1));
    if (s.endsWith('/')) probes.add(`${s}a/`);
    const cut = s.lastIndexOf('/');
    if (cut > 0) probes.add(s.slice(0, cut + 1));
    if (s.length > 1) {
      const at = 1 + Math.floor(random() * (s.length - 1));
      probes.add(s.slice(0, at) + pick(random, FILLERS) + s.slice(at + 1));
      probes.add(s.slice(0, at) + '/' + s.slice(at));
    }
  }
  return [...probes];
}

const piece = fc.constantFrom(
  'a', 'b', 'ab', '.', '+', '(', ')', '$', '|', '^', '\u00e9', '-', '@', '~', 'x.y',
  '/', '/', '/', '//',
  '?', '*', '*', '**', '***',
  '[ab]', '[a-c]', '[^a]', '[^/]', '[/]', '[.-/]', '[\\]]', '[^a-z]', '[{,}]', '[\\^a]', '[a^]', '[-a]',
  '[\\x41-\\x43]',
  '\\*', '\\{', '\\}', '\\[', '\\]', '\\,', '\\^', '\\x41', '\\101', '\\d065', '\\x2f', '\\/', '\\\\', '\\t',
  '\\q', '\\x00', '\\0', '\\.',
);

/** Rarer pieces: known apparmor_parser 3.0.8 bugs and errors, so they are exercised too. */
const oddPiece = fc.constantFrom('\\?', '[*?]', '[a?]', '[c-a]', '[a-]', '{a}', '{}', ']', '}', '{', '[', '[]', '[^]');

const sequence: fc.Arbitrary<string> = fc.letrec<{ seq: string; group: string }>((tie) => ({
  seq: fc.array(fc.oneof({ maxDepth: 3 }, { weight: 12, arbitrary: piece }, { weight: 3, arbitrary: tie('group') }), { maxLength: 6 }).map((parts) => parts.join('')),
  group: fc.array(tie('seq'), { minLength: 2, maxLength: 3 }).map((alts) => `{${alts.join(',')}}`),
})).seq;

/** Random tricky patterns, all starting with '/', deterministic for a seed. */
export function trickyPatterns(count: number, seed: number): string[] {
  const valid = fc.sample(sequence.map((s) => `/${s}`), { seed, numRuns: count });
  const odd = fc.sample(fc.tuple(sequence, oddPiece, sequence).map(([a, o, b]) => `/${a}${o}${b}`), { seed: seed + 1, numRuns: Math.ceil(count / 10) });
  return [...new Set([...valid, ...odd])];
}
