import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type ScalarTag,
  type Tags,
} from 'yaml';
import type { KeyPath, Where } from './issues';

/** One compose file after YAML parsing: its plain value, and the position of any key path in the text. */
export interface YamlSource {
  /** The absolute path of the file. */
  readonly path: string;
  /** The file as messages name it (relative to the project directory when it lies inside it). */
  readonly name: string;
  /** The document as plain data: mappings, lists, strings, numbers, booleans and null; anchors and `<<:` merged. */
  readonly value: unknown;
  /** The position of `path` in the file: a key's position for a mapping entry, an item's for a list entry. The nearest existing ancestor when `path` goes further than the file does. */
  where(path: KeyPath): Where;
  /** The text of the plain scalar at `path` as written (`2`, `2.0`, `0440`), to tell an integer from a float. */
  scalarText(path: KeyPath): string | undefined;
}

export type ParsedYaml = { readonly ok: true; readonly source: YamlSource } | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Integers as docker's YAML parser (go-yaml v3) reads them, beyond the YAML 1.2 core schema: `0440` is octal (a file
 * mode), `0b101` binary. Everything else follows the core schema, which go-yaml v3 also follows (`yes` is a string).
 */
const goYamlInts: ScalarTag[] = [
  {
    identify: (value) => Number.isInteger(value),
    default: true,
    tag: 'tag:yaml.org,2002:int',
    format: 'OCT',
    test: /^[-+]?0[0-7]+$/,
    resolve: (text) => Number.parseInt(text, 8),
  },
  {
    identify: (value) => Number.isInteger(value),
    default: true,
    tag: 'tag:yaml.org,2002:int',
    format: 'BIN',
    test: /^[-+]?0b[01]+$/,
    resolve: (text) => (text.startsWith('-') ? -1 : 1) * Number.parseInt(text.replace(/^[-+]?0b/, ''), 2),
  },
];

function withGoYamlInts(tags: Tags): Tags {
  const decimal = tags.findIndex((t) => typeof t === 'object' && t.tag === 'tag:yaml.org,2002:int' && t.format === undefined);
  const at = decimal < 0 ? tags.length : decimal;
  return [...tags.slice(0, at), ...goYamlInts, ...tags.slice(at)];
}

/** Parses one compose file. Syntax errors come back as issue lines (`FILE:LINE:COL YAML syntax: ...`). */
export function parseYaml(text: string, path: string, name: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { merge: true, lineCounter, customTags: withGoYamlInts, prettyErrors: false });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      const message = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.message;
      return `${name}:${pos.line}:${pos.col} YAML syntax: ${message}`;
    });
    return { ok: false, errors };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return { ok: false, errors: [`${name}:1:1 YAML: ${(e as Error).message}`] };
  }
  const where = (keyPath: KeyPath): Where => {
    const found = locate(doc, keyPath);
    const offset = found.posNode?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    return { file: name, line, col, path: keyPath };
  };
  const scalarText = (keyPath: KeyPath): string | undefined => {
    const found = locate(doc, keyPath);
    if (found.depth !== keyPath.length || !isScalar(found.node)) return undefined;
    return found.node.source ?? text.slice(found.node.range?.[0] ?? 0, found.node.range?.[1] ?? 0);
  };
  return { ok: true, source: { path, name, value, where, scalarText } };
}

interface Located {
  /** The node at the deepest segment reached. */
  readonly node: unknown;
  /** The node whose position stands for it: a mapping entry's key, a list item. */
  readonly posNode: Node | undefined;
  /** How many segments of the path were found. */
  readonly depth: number;
}

function locate(doc: Document, keyPath: KeyPath): Located {
  let node: unknown = doc.contents;
  let posNode: Node | undefined = isNode(doc.contents) ? doc.contents : undefined;
  let depth = 0;
  for (const segment of keyPath) {
    const current = deref(doc, node);
    let next: { value: unknown; pos: Node | undefined } | undefined;
    if (isMap(current)) {
      const pair = findPair(doc, current.items as Pair[], String(segment), 0);
      if (pair) next = { value: pair.value, pos: isNode(pair.key) ? pair.key : undefined };
    } else if (isSeq(current) && typeof segment === 'number') {
      const item = current.items[segment];
      if (item !== undefined) next = { value: item, pos: isNode(item) ? item : undefined };
    }
    if (!next) break;
    node = next.value;
    posNode = next.pos ?? posNode;
    depth += 1;
  }
  return { node: deref(doc, node), posNode, depth };
}

/** A key's pair in a mapping: its own keys first, then the mappings it merges with `<<:` in order (YAML merge precedence). */
function findPair(doc: Document, items: readonly Pair[], key: string, depth: number): Pair | undefined {
  if (depth > 20) return undefined;
  const own = items.find((p) => !isMergeKey(p.key) && isScalar(p.key) && String(p.key.value) === key);
  if (own) return own;
  for (const pair of items) {
    if (!isMergeKey(pair.key)) continue;
    const value = deref(doc, pair.value);
    const sources = isSeq(value) ? value.items.map((item) => deref(doc, item)) : [value];
    for (const source of sources) {
      if (!isMap(source)) continue;
      const found = findPair(doc, source.items as Pair[], key, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  return key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<');
}

function deref(doc: Document, node: unknown): unknown {
  let current = node;
  for (let i = 0; i < 20 && isAlias(current); i++) current = current.resolve(doc);
  return current;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}
