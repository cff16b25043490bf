// The layering rules of docs/architecture.md as a check over TypeScript sources (paths relative to the
// repository, e.g. `src/policy/check/check.ts`). Pure: the test gives it the real tree and small
// synthetic ones, so the check itself is shown to fail on each kind of violation.

/** Which top-level folders of src/ each folder may import (besides itself). `*` is anything. */
export const ALLOWED_LAYERS: Readonly<Record<string, readonly string[] | '*'>> = {
  '': '*', // src/index.ts, the library's surface
  cli: '*',
  console: ['server', 'web', 'confine', 'policy', 'policy-node', 'logs', 'logs-node', 'learn', 'record', 'isolate', 'lint', 'host'],
  server: ['web', 'confine', 'policy', 'policy-node'],
  confine: ['policy', 'policy-node'],
  learn: ['logs', 'policy', 'web'],
  record: ['logs', 'policy'],
  isolate: ['policy', 'web'],
  lint: ['policy', 'web'],
  host: ['policy', 'web', 'policy-node'],
  web: ['policy'],
  logs: ['policy'],
  'logs-node': ['logs', 'policy'],
  'policy-node': ['policy'],
  policy: [],
};

/**
 * Folders of browser code: compiled on their own (tsconfig.ui.json) and served as files, never imported
 * by Node. A `new URL('./ui/app.js', import.meta.url)` into one locates an asset; it is not an import edge.
 */
export const ASSET_FOLDERS: readonly string[] = ['src/console/ui'];

/**
 * Inside src/policy, which parts each part may import (the files at src/policy's top, such as
 * vocabulary.ts, and the SHARED_POLICY_PARTS are for all). `syntax` knows nothing about semantics;
 * `eval` never parses text; `label` and `aare` stand alone; `cache` (the compile cache's encoding)
 * knows only automata.
 */
export const ALLOWED_POLICY_PARTS: Readonly<Record<string, readonly string[]>> = {
  diagnostic: [],
  cache: ['aare'],
  syntax: [],
  label: [],
  aare: [],
  model: ['syntax'],
  format: ['syntax', 'model'],
  resolve: ['syntax', 'model', 'label'],
  check: ['syntax', 'model', 'resolve', 'aare'],
  eval: ['aare', 'resolve', 'cache'],
  load: ['resolve', 'check'],
};

/**
 * Parts every part of src/policy may import: diagnostics are the language of every stage. A folder (not
 * a file at src/policy's top) so that code outside can import them through their own index.ts without
 * loading the whole toolkit (the CLI's warm cache path).
 */
export const SHARED_POLICY_PARTS: readonly string[] = ['diagnostic'];

/** Layers that form the pure core: no `node:` module, no package, nothing outside the allowed layers. */
export const PURE_LAYERS: readonly string[] = ['policy', 'logs'];

export interface Violation {
  readonly rule: 'node-import' | 'outside-layer' | 'wrong-direction' | 'unknown-layer' | 'not-through-index' | 'cycle';
  readonly file: string;
  readonly message: string;
}

interface Edge {
  readonly from: string;
  readonly specifier: string;
  /** The imported source file, for relative specifiers. */
  readonly to?: string;
}

// import … from 'x', export … from 'x', import 'x', import('x'), and a worker's new URL('./x.js', import.meta.url).
const SPECIFIERS = [
  /^\s*(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
];

/** Source text without comments (so an example in a comment is not an import). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

function edgesOf(file: string, text: string): Edge[] {
  const code = stripComments(text);
  const edges: Edge[] = [];
  for (const pattern of SPECIFIERS) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1]!;
      const asset = pattern === SPECIFIERS[3] && specifier.startsWith('.') && ASSET_FOLDERS.includes(folderOf(resolveRelative(file, specifier)));
      if (asset) continue;
      edges.push(specifier.startsWith('.') ? { from: file, specifier, to: resolveRelative(file, specifier) } : { from: file, specifier });
    }
  }
  return edges;
}

function resolveRelative(from: string, specifier: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const part of specifier.split('/')) {
    if (part === '.' || part === '') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/').replace(/\.js$/, '.ts');
}

/** `src/policy/check/check.ts` → 'policy'; `src/index.ts` → ''. */
function layerOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1]! : '';
}

/** `src/policy/check/check.ts` → 'check'; files at src/policy's top and outside policy → undefined. */
function policyPartOf(file: string): string | undefined {
  const parts = file.split('/');
  return parts[1] === 'policy' && parts.length > 3 ? parts[2] : undefined;
}

function folderOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}

/** Check every rule; `sources` maps repository-relative paths of src/**.ts to their text. */
export function checkLayering(sources: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, text] of sources) {
    const layer = layerOf(file);
    const allowed = ALLOWED_LAYERS[layer];
    if (allowed === undefined) {
      violations.push({ rule: 'unknown-layer', file, message: `src/${layer} is not in the layer map of docs/architecture.md` });
    }
    const targets: string[] = [];
    for (const edge of edgesOf(file, text)) {
      if (edge.to === undefined) {
        if (PURE_LAYERS.includes(layer)) {
          violations.push({ rule: edge.specifier.startsWith('node:') ? 'node-import' : 'outside-layer', file, message: `imports '${edge.specifier}': src/${layer} is pure (no node: modules, no packages)` });
        }
        continue;
      }
      const to = edge.to;
      if (!to.startsWith('src/')) {
        // package.json (the CLI's version): data outside the source tree, never part of the pure core.
        if (PURE_LAYERS.includes(layer)) violations.push({ rule: 'outside-layer', file, message: `imports '${edge.specifier}' from outside src/` });
        continue;
      }
      targets.push(to);
      const target = layerOf(to);
      if (target !== layer && allowed !== '*' && allowed !== undefined && !allowed.includes(target)) {
        violations.push({
          rule: PURE_LAYERS.includes(layer) ? 'outside-layer' : 'wrong-direction', file,
          message: `imports '${edge.specifier}' (src/${target || 'index.ts'}): src/${layer} may import only ${allowed.length ? allowed.map((l) => `src/${l}`).join(', ') : 'itself'}`,
        });
      }
      const part = policyPartOf(file);
      const targetPart = policyPartOf(to);
      if (part !== undefined && targetPart !== undefined && part !== targetPart) {
        const parts = ALLOWED_POLICY_PARTS[part];
        if (parts === undefined) violations.push({ rule: 'unknown-layer', file, message: `src/policy/${part} is not in the layer map` });
        else if (!parts.includes(targetPart) && !SHARED_POLICY_PARTS.includes(targetPart)) {
          violations.push({ rule: 'wrong-direction', file, message: `imports '${edge.specifier}': src/policy/${part} may import only ${parts.length ? parts.map((p) => `policy/${p}`).join(', ') : 'itself'} (and src/policy's own files)` });
        }
      }
      // Into another folder only through that folder's index.ts (its own folder and its ancestors are home).
      const home = folderOf(file);
      const there = folderOf(to);
      const inHome = home === there || home.startsWith(`${there}/`);
      if (!inHome && !to.endsWith('/index.ts')) {
        violations.push({ rule: 'not-through-index', file, message: `imports '${edge.specifier}': import ${there} through its index.ts` });
      }
    }
    graph.set(file, targets);
  }
  for (const cycle of findCycles(graph)) {
    violations.push({ rule: 'cycle', file: cycle[0]!, message: `import cycle: ${[...cycle, cycle[0]].join(' → ')}` });
  }
  return violations;
}

/** Each strongly connected component with more than one file (or a file importing itself), as one cycle through it. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) components.push(component);
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components.map((component) => cycleThrough(graph, new Set(component)));
}

/** One concrete cycle inside a strongly connected component, for a readable message. */
function cycleThrough(graph: ReadonlyMap<string, readonly string[]>, component: ReadonlySet<string>): string[] {
  const start = [...component].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const next of graph.get(node) ?? []) {
      if (!component.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (!previous.has(next)) { previous.set(next, node); queue.push(next); }
    }
  }
  return [start];
}
