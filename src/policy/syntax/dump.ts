// Readable tree dump for snapshots and debugging: one element per line, indented by depth.
import { isGreenNode, type GreenNode } from './tree.js';

export function dumpTree(root: GreenNode): string {
  const lines: string[] = [];
  const stack: { element: GreenNode | { kind: string; text: string }; depth: number; offset: number }[] = [{ element: root, depth: 0, offset: 0 }];
  while (stack.length) {
    const { element, depth, offset } = stack.pop()!;
    const pad = '  '.repeat(depth);
    if (isGreenNode(element as GreenNode)) {
      const node = element as GreenNode;
      lines.push(`${pad}${node.kind}@${offset}..${offset + node.width}`);
      let childOffset = offset;
      const kids: typeof stack = [];
      for (const kid of node.children) {
        kids.push({ element: kid, depth: depth + 1, offset: childOffset });
        childOffset += isGreenNode(kid) ? kid.width : kid.text.length;
      }
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
    } else {
      const token = element as { kind: string; text: string };
      lines.push(`${pad}${token.kind}@${offset}..${offset + token.text.length} ${JSON.stringify(token.text)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
