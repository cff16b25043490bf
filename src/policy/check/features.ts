// Kernel feature sets: the flattened /sys/kernel/security/apparmor/features tree that
// `apparmor_parser -M FILE` reads (`name {value …}` nested blocks). hatter uses one to decide which
// rule classes, flags and conditionals the target kernel and parser ABI support.

export interface FeatureNode {
  readonly children: ReadonlyMap<string, FeatureNode>;
  /** Words directly inside the block that are not themselves keys (`mask {chown kill}` → chown, kill). */
  readonly words: readonly string[];
}

export interface FeatureSetProblem {
  readonly offset: number;
  readonly message: string;
}

/** A parsed feature set with path lookups like `network/af_mask`. */
export class FeatureSet {
  constructor(readonly root: FeatureNode, readonly name = 'features') {}

  /** The node at `a/b/c`, if present. */
  node(path: string): FeatureNode | undefined {
    let node: FeatureNode | undefined = this.root;
    for (const part of path.split('/').filter(Boolean)) {
      node = node?.children.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  has(path: string): boolean {
    return this.node(path) !== undefined;
  }

  /** True when the node at `path` lists `word` (as a word or a child key). */
  lists(path: string, word: string): boolean {
    const node = this.node(path);
    return node !== undefined && (node.words.includes(word) || node.children.has(word));
  }

  /** Rule classes this feature set enforces (`file`, `network`, `dbus`, …). */
  supportsClass(ruleClass: string): boolean {
    switch (ruleClass) {
      case 'file': case 'link': case 'capability': case 'rlimit': case 'change_profile': return true;
      case 'network': return this.has('network');
      case 'unix': return this.has('network/af_unix') || this.has('network_v8/af_unix');
      case 'mount': case 'remount': case 'umount': return this.has('mount');
      case 'pivot_root': return this.has('namespaces/pivot_root');
      case 'dbus': return this.has('dbus');
      case 'signal': return this.has('signal');
      case 'ptrace': return this.has('ptrace');
      case 'userns': return this.has('namespaces/userns_create');
      case 'mqueue': return this.has('ipc/posix_mqueue');
      case 'io_uring': return this.has('io_uring');
      default: return true;
    }
  }
}

/** The newest language: everything hatter knows is supported. */
export const ALL_FEATURES: FeatureSet = new FeatureSet(node(
  ['file', 'network', 'network/af_unix', 'mount', 'namespaces/pivot_root', 'namespaces/userns_create', 'dbus', 'signal',
    'ptrace', 'ipc/posix_mqueue', 'io_uring', 'policy/versions/v9', 'domain/change_hat', 'domain/change_profile',
    'domain/stack', 'caps'],
), 'newest');

function node(paths: string[]): FeatureNode {
  const root = { children: new Map<string, FeatureNode>(), words: [] as string[] };
  for (const path of paths) {
    let current = root;
    for (const part of path.split('/')) {
      let next = current.children.get(part) as typeof root | undefined;
      if (!next) { next = { children: new Map(), words: [] }; current.children.set(part, next); }
      current = next;
    }
  }
  return root;
}

/** Parse a features file; malformed text gives a problem with the offset of the mistake. */
export function parseFeatureSet(text: string, name = 'features'): FeatureSet | FeatureSetProblem {
  const tokens: { text: string; offset: number }[] = [];
  const re = /[{}]|[^\s{}]+/g;
  for (let match = re.exec(text); match; match = re.exec(text)) tokens.push({ text: match[0], offset: match.index });
  let position = 0;
  const stack: { children: Map<string, FeatureNode>; words: string[] }[] = [{ children: new Map(), words: [] }];
  while (position < tokens.length) {
    const token = tokens[position]!;
    const current = stack[stack.length - 1]!;
    if (token.text === '{') return { offset: token.offset, message: "'{' without a name before it" };
    if (token.text === '}') {
      if (stack.length === 1) return { offset: token.offset, message: "'}' without a matching '{'" };
      stack.pop();
      position++;
      continue;
    }
    if (tokens[position + 1]?.text === '{') {
      const child = { children: new Map<string, FeatureNode>(), words: [] as string[] };
      current.children.set(token.text, child);
      stack.push(child);
      position += 2;
      continue;
    }
    current.words.push(token.text);
    position++;
  }
  if (stack.length > 1) return { offset: text.length, message: `${stack.length - 1} block(s) not closed with '}'` };
  return new FeatureSet(stack[0]!, name);
}
