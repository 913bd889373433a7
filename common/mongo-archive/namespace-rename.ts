/**
 * mongorestore's `--nsFrom`/`--nsTo`: renames namespaces (`db.collection`) by pattern, with its rules:
 * - `*` matches any run of characters, dots included, as few as possible; the n-th `*` of `to` takes what
 *   the n-th `*` of `from` matched, so both need as many. `\*` is a literal `*`, `\\` a backslash.
 * - A `from` with a `$` uses named variables instead: `$name$` matches like `*` and `to` says where it goes
 *   (`$db$.$coll$` to `$coll$.$db$`); names are unique in `from`, `to` uses only those; `*` is literal then.
 * - The pattern matches the whole namespace; when several match, the one given last wins.
 * On top of mongorestore, `planRenames` refuses what would go wrong silently: a `from` that matches no
 * namespace of the archive, a target in admin, local or config, a target without a database or collection
 * part, and two namespaces renamed onto one.
 */

export interface NamespaceRename {
  readonly from: string;
  readonly to: string;
}

/** Thrown when a rename pattern is malformed, or its result would not be a safe target. */
export class NamespaceRenameError extends Error {
  override readonly name = 'NamespaceRenameError';
}

type Token = { readonly literal: string } | { readonly variable: string };

const RESERVED_DATABASES = ['admin', 'local', 'config'];

function wildcardTokens(pattern: string): { tokens: Token[]; stars: number } {
  const tokens: Token[] = [];
  let literal = '';
  let stars = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      // `\\` and `\*` are the characters themselves; a lone backslash disappears.
      if (pattern[i + 1] === '\\' || pattern[i + 1] === '*') literal += pattern[++i];
      continue;
    }
    // A `*` right after a backslash is literal, even when that backslash was itself escaped (`\\*`).
    if (c === '*' && pattern[i - 1] !== '\\') {
      tokens.push({ literal }, { variable: String(++stars) });
      literal = '';
      continue;
    }
    literal += c;
  }
  tokens.push({ literal });
  return { tokens, stars };
}

function variableTokens(pattern: string, what: string): Token[] {
  const tokens: Token[] = [];
  let rest = pattern;
  while (rest.length > 0) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) {
      tokens.push({ literal: rest });
      break;
    }
    const close = rest.indexOf('$', dollar + 1);
    if (close < 0) throw new NamespaceRenameError(`a lone '$' in ${what} '${pattern}': variables are written $name$`);
    tokens.push({ literal: rest.slice(0, dollar) }, { variable: rest.slice(dollar + 1, close) });
    rest = rest.slice(close + 1);
  }
  return tokens;
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** One compiled pair: what matches and how the target is spelled. */
interface CompiledRename {
  readonly rename: NamespaceRename;
  readonly matcher: RegExp;
  /** The `to` tokens, variables as group numbers of `matcher`. */
  readonly target: readonly (string | number)[];
}

function compile(rename: NamespaceRename): CompiledRename {
  const { from, to } = rename;
  let fromTokens: Token[];
  let toTokens: Token[];
  if (from.includes('$')) {
    fromTokens = variableTokens(from, 'nsFrom');
    toTokens = variableTokens(to, 'nsTo');
  } else {
    const f = wildcardTokens(from);
    const t = wildcardTokens(to);
    if (f.stars !== t.stars)
      throw new NamespaceRenameError(`nsFrom '${from}' has ${f.stars} '*' and nsTo '${to}' has ${t.stars}: they need as many`);
    if (to.includes('$')) throw new NamespaceRenameError(`nsTo '${to}' uses '$' variables but nsFrom '${from}' has none`);
    fromTokens = f.tokens;
    toTokens = t.tokens;
  }
  const groups = new Map<string, number>();
  let source = '^';
  for (const token of fromTokens) {
    if ('literal' in token) {
      source += escapeRegExp(token.literal);
      continue;
    }
    if (groups.has(token.variable)) throw new NamespaceRenameError(`variable '${token.variable}' is used twice in nsFrom '${from}'`);
    groups.set(token.variable, groups.size + 1);
    source += '(.*?)';
  }
  const target = toTokens.map((token) => {
    if ('literal' in token) return token.literal;
    const group = groups.get(token.variable);
    if (group === undefined)
      throw new NamespaceRenameError(`nsTo '${to}' uses variable '${token.variable}', which nsFrom '${from}' does not define`);
    return group;
  });
  return { rename, matcher: new RegExp(`${source}$`, 'u'), target };
}

/** Renames namespaces as mongorestore does with the same `--nsFrom`/`--nsTo` pairs, in the same order. */
export class NamespaceRenamer {
  private readonly compiled: readonly CompiledRename[];

  constructor(renames: readonly NamespaceRename[]) {
    this.compiled = renames.map(compile).reverse();
  }

  /** The target of a namespace, and which rename made it (none: the namespace stays). */
  rename(namespace: string): { readonly namespace: string; readonly by?: NamespaceRename } {
    for (const c of this.compiled) {
      const m = c.matcher.exec(namespace);
      if (m === null) continue;
      return { namespace: c.target.map((t) => (typeof t === 'number' ? m[t] : t)).join(''), by: c.rename };
    }
    return { namespace };
  }

  /** Whether a rename's `from` matches the namespace (whether or not a later rename wins it). */
  matches(rename: NamespaceRename, namespace: string): boolean {
    return this.compiled.find((c) => c.rename === rename)?.matcher.test(namespace) ?? false;
  }
}

/** `db.collection` split at its first dot, as the tools split it. */
export function splitNamespace(namespace: string): { readonly db: string; readonly collection: string } {
  const dot = namespace.indexOf('.');
  return dot < 0 ? { db: namespace, collection: '' } : { db: namespace.slice(0, dot), collection: namespace.slice(dot + 1) };
}

/**
 * The target of every namespace of an archive under the renames, checked: each `from` matches at least
 * one of them, no target is in admin, local or config or lacks a part, no two share a target.
 */
export function planRenames(
  namespaces: readonly string[],
  renames: readonly NamespaceRename[],
): Map<string, { db: string; collection: string }> {
  const renamer = new NamespaceRenamer(renames);
  for (const r of renames) {
    if (!namespaces.some((ns) => renamer.matches(r, ns))) {
      const hint = r.from.includes('.') ? '' : ` (a pattern names db.collection: '${r.from}.*' for a whole database)`;
      throw new NamespaceRenameError(
        `nsFrom '${r.from}' matches no namespace of the archive${hint}; it has ${namespaces.join(', ') || 'none'}`,
      );
    }
  }
  const plan = new Map<string, { db: string; collection: string }>();
  const sources = new Map<string, string>();
  for (const ns of namespaces) {
    const { namespace: target, by } = renamer.rename(ns);
    const parts = splitNamespace(target);
    if (by !== undefined) {
      const rule = `nsFrom '${by.from}' nsTo '${by.to}'`;
      if (parts.db === '' || parts.collection === '')
        throw new NamespaceRenameError(`${rule} renames ${ns} to '${target}', which is not database.collection`);
      if (RESERVED_DATABASES.includes(parts.db.toLowerCase()))
        throw new NamespaceRenameError(`${rule} renames ${ns} into the ${parts.db} database, which holds the server's own data: refused`);
    }
    const other = sources.get(target);
    if (other !== undefined) throw new NamespaceRenameError(`both ${other} and ${ns} would be restored into ${target}`);
    sources.set(target, ns);
    plan.set(ns, parts);
  }
  return plan;
}
