/**
 * Canonical filter text: lower-case operators, JSON literals, parentheses only
 * where precedence needs them. parseFilter(printFilter(ast)) deep-equals ast.
 */
import type { AttrPath, FilterNode, Literal } from './ast.js';

export function printPath(p: AttrPath): string {
  return `${p.urn !== undefined ? `${p.urn}:` : ''}${p.attr}${p.sub !== undefined ? `.${p.sub}` : ''}`;
}

export function printLiteral(v: Literal): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`cannot print non-finite number ${v} in a filter`);
    // String(-0) is "0", which would parse back as +0.
    return Object.is(v, -0) ? '-0' : String(v);
  }
  return JSON.stringify(v);
}

const PREC = { or: 1, and: 2 } as const;

export function printFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      return `${printPath(node.path)} ${node.op} ${printLiteral(node.value)}`;
    case 'present':
      return `${printPath(node.path)} pr`;
    case 'not':
      return `not (${printFilter(node.filter)})`;
    case 'valuePath':
      return `${printPath(node.path)}[${printFilter(node.filter)}]`;
    case 'and':
    case 'or': {
      // Walk the left spine iteratively: long "a and b and c …" chains are left-deep.
      const rights: FilterNode[] = [];
      let cur: FilterNode = node;
      while (cur.kind === node.kind) {
        rights.push(cur.right);
        cur = cur.left;
      }
      const parts = [operand(cur, node.kind, false)];
      for (let i = rights.length - 1; i >= 0; i--) parts.push(operand(rights[i]!, node.kind, true));
      return parts.join(` ${node.kind} `);
    }
  }
}

/** Parenthesise a lower-precedence child, and a same-operator right child (the parser is left-associative). */
function operand(child: FilterNode, parent: 'and' | 'or', isRight: boolean): string {
  const text = printFilter(child);
  if (child.kind === 'and' || child.kind === 'or') {
    if (PREC[child.kind] < PREC[parent] || (isRight && PREC[child.kind] === PREC[parent])) return `(${text})`;
  }
  return text;
}
