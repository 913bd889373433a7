/**
 * What a plain SQL dump may hold for psql to be given it: SQL (with its quotes, dollar quotes and comments),
 * `COPY ... FROM stdin;` blocks ended by `\.`, and the pair pg_dump (15.14 and later) writes around
 * everything, `\restrict KEY` first and `\unrestrict KEY` last. Any other psql meta-command (`\!`, `\copy ...
 * program`, `\i`, `\connect`, an early `\unrestrict`), wherever psql would see it, is something pg_dump never
 * writes. SqlDumpLines finds them the way psql's lexer does: a backslash outside quotes and comments.
 *
 * This is the pre-check and the filter; the guarantee is psql's own: restores run psql restricted under a key
 * of their own, so whatever this scan might miss is refused by psql too, and its transaction never commits.
 */

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
/** The bytes of a line kept to classify it; the pair pg_dump writes is far shorter (a 64-character key). */
const HEAD = 256;
const TAIL = 16;
const RESTRICT = /^\\(restrict|unrestrict) ([A-Za-z0-9]{1,200})\r?$/;
const COPY_END = /^\\\.\r?$/;
const ident = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;

/** One identifier as pg_dump writes it: plain (lower-case, as it is), or double-quoted with `""` for a quote. */
const IDENTIFIER = /^(?:"((?:[^"]|"")+)"|([a-z_\x80-\uffff][a-z0-9_$\x80-\uffff]*))/;

/** `schema.table` of a `COPY schema.table (...) FROM stdin;` line, unquoted; undefined when it is not that shape. Pure. */
export function copiedTable(line: string): string | undefined {
  const parts: string[] = [];
  let rest = line.slice('COPY '.length);
  for (;;) {
    const m = IDENTIFIER.exec(rest);
    if (m === null) return undefined;
    parts.push(m[1] === undefined ? (m[2] as string) : m[1].replace(/""/g, '"'));
    rest = rest.slice(m[0].length);
    if (!rest.startsWith('.')) break;
    rest = rest.slice(1);
  }
  return parts.length === 2 && /^[ (]/.test(rest) ? parts.join('.') : undefined;
}

type Lex =
  | { at: 'sql' | 'line-comment' | 'double' | 'double-end' }
  | { at: 'single' | 'single-end'; escapes: boolean; escaped: boolean }
  | { at: 'block-comment'; depth: number }
  | { at: 'tag'; tag: string }
  | { at: 'dollar'; close: string; matched: number };

/**
 * Reads a dump as it streams (constant memory) and passes on its bytes without the dump's own `\restrict`
 * and `\unrestrict` lines, recording in `problems` everything pg_dump would not have written (1-based line
 * numbers). Pure: Buffers in, Buffers out.
 */
export class SqlDumpLines {
  readonly problems: string[] = [];
  /** Rows per table (`schema.table`, as pg_class names it) in the dump's COPY blocks, counted as they pass. */
  readonly rows: Record<string, number> = {};
  private copying = false;
  /** The table of the COPY block being read (undefined: a name this scan does not parse; its rows go uncounted). */
  private table: string | undefined;
  private lex: Lex = { at: 'sql' };
  /** The two bytes before the one being read, in SQL (for `--`, `/*`, `E'`, `$tag$`). */
  private prev = 0;
  private prev2 = 0;
  private line = 1;
  private length = 0;
  private head: Buffer[] = [];
  private headLength = 0;
  private tail: Buffer = Buffer.alloc(0);
  /** Whether the current line began in plain SQL (not inside quotes or a comment). */
  private plainStart = true;
  /** The rest of the line is a meta-command's arguments. */
  private skipLine = false;
  /** The current line's bytes, held back while it may be a line to drop (it starts with a backslash). */
  private held: Buffer[] | undefined;
  private metaSeen = false;
  private key: string | undefined;
  private sql = false;
  private unrestricted = false;
  /** `SET standard_conforming_strings = off` makes a backslash escape in every string, as psql follows it. */
  private standardStrings = true;

  /** The bytes to pass on, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let from = 0;
    let at = 0;
    while (at < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, at);
      if (this.copying && this.length === 0 && newline !== -1) {
        // A whole line of COPY data: only whether it is `\.` matters, and it is passed on as it is.
        if (chunk[at] === BACKSLASH && newline - at <= 3 && COPY_END.test(chunk.toString('latin1', at, newline))) this.copying = false;
        else this.countRow();
        this.line += 1;
        at = newline + 1;
        continue;
      }
      const end = newline === -1 ? chunk.length : newline + 1;
      const piece = chunk.subarray(at, end);
      if (this.length === 0) {
        this.plainStart = !this.copying && this.lex.at === 'sql';
        if (this.plainStart && piece[0] === BACKSLASH) [this.held, this.skipLine] = [[], true];
      }
      this.see(piece);
      if (!this.copying && !this.skipLine) this.scan(piece);
      if (this.held !== undefined) {
        if (from < at) out.push(chunk.subarray(from, at));
        from = end;
        this.held.push(piece);
        if (this.length > HEAD) this.release(out, false);
      }
      if (newline !== -1) this.lineEnded(out);
      at = end;
    }
    if (from < chunk.length) out.push(chunk.subarray(from));
    return out;
  }

  /** The dump has ended: what is left to pass on. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    const last = this.length > 0 ? this.line : this.line - 1;
    if (this.length > 0) this.lineEnded(out);
    if (this.copying) this.problems.push(`the dump ends inside COPY data (line ${last}): truncated`);
    return out;
  }

  private see(piece: Buffer): void {
    this.length += piece.length;
    if (this.headLength < HEAD) {
      const part = piece.subarray(0, HEAD - this.headLength);
      this.head.push(part);
      this.headLength += part.length;
    }
    this.tail = piece.length >= TAIL ? piece.subarray(-TAIL) : Buffer.concat([this.tail, piece]).subarray(-TAIL);
  }

  /** Follows quotes, dollar quotes and comments as psql does; a backslash in plain SQL is a meta-command. */
  private scan(piece: Buffer): void {
    for (let i = 0; i < piece.length; i += 1) {
      const c = piece[i] as number;
      const lex = this.lex;
      let again = false; // read c once more, in the state it led to
      let prev = c; // what counts as the byte before the next one
      switch (lex.at) {
        case 'sql':
          if (c === 0x27) {
            const e = (this.prev === 0x45 || this.prev === 0x65) && !ident(this.prev2);
            this.lex = { at: 'single', escapes: e || !this.standardStrings, escaped: false };
          } else if (c === 0x22) this.lex = { at: 'double' };
          else if (c === 0x2d && this.prev === 0x2d) this.lex = { at: 'line-comment' };
          else if (c === 0x2a && this.prev === 0x2f) [this.lex, prev] = [{ at: 'block-comment', depth: 1 }, 0];
          else if (c === 0x24 && !ident(this.prev)) this.lex = { at: 'tag', tag: '' };
          else if (c === BACKSLASH) {
            // psql takes the rest of the line as the command's arguments.
            this.metaCommand(piece, i);
            this.skipLine = true;
            return;
          }
          break;
        case 'single':
          if (lex.escaped) this.lex = { ...lex, escaped: false };
          else if (lex.escapes && c === BACKSLASH) this.lex = { ...lex, escaped: true };
          else if (c === 0x27) this.lex = { ...lex, at: 'single-end' };
          break;
        case 'single-end': // '' inside a string is a quote
          if (c === 0x27) this.lex = { ...lex, at: 'single' };
          else [this.lex, again] = [{ at: 'sql' }, true];
          break;
        case 'double':
          if (c === 0x22) this.lex = { at: 'double-end' };
          break;
        case 'double-end':
          if (c === 0x22) this.lex = { at: 'double' };
          else [this.lex, again] = [{ at: 'sql' }, true];
          break;
        case 'line-comment': // ends with its line
          break;
        case 'block-comment':
          if (c === 0x2a && this.prev === 0x2f) [this.lex, prev] = [{ at: 'block-comment', depth: lex.depth + 1 }, 0];
          else if (c === 0x2f && this.prev === 0x2a)
            [this.lex, prev] = [lex.depth === 1 ? { at: 'sql' } : { at: 'block-comment', depth: lex.depth - 1 }, 0];
          break;
        case 'tag':
          if (c === 0x24) this.lex = { at: 'dollar', close: `$${lex.tag}$`, matched: 0 };
          else if (ident(c) && !(lex.tag === '' && c >= 0x30 && c <= 0x39)) this.lex = { at: 'tag', tag: lex.tag + String.fromCharCode(c) };
          else [this.lex, again] = [{ at: 'sql' }, true];
          break;
        case 'dollar': {
          const matched = c === lex.close.charCodeAt(lex.matched) ? lex.matched + 1 : c === 0x24 ? 1 : 0;
          if (matched === lex.close.length) [this.lex, prev] = [{ at: 'sql' }, 0];
          else this.lex = { at: 'dollar', close: lex.close, matched };
          break;
        }
      }
      if (again) i -= 1;
      else [this.prev2, this.prev] = [this.prev, prev];
    }
  }

  private metaCommand(piece: Buffer, i: number): void {
    this.metaSeen = true;
    const name = /^\\[^\s\\]{0,20}/.exec(piece.subarray(i, i + 22).toString('latin1'))?.[0];
    this.problems.push(`line ${this.line}: psql meta-command ${name} (pg_dump writes none there)`);
  }

  private release(out: Buffer[], drop: boolean): void {
    if (!drop) out.push(...(this.held ?? []));
    this.held = undefined;
  }

  private lineEnded(out: Buffer[]): void {
    const head = (this.head.length === 1 ? (this.head[0] as Buffer) : Buffer.concat(this.head)).toString('latin1').replace(/\n$/, '');
    const tail = this.tail.toString('latin1').replace(/\r?\n$/, '');
    const whole = this.length <= HEAD;
    let drop = false;
    if (this.copying) {
      if (whole && COPY_END.test(head)) this.copying = false;
      else this.countRow();
    } else if (this.plainStart && head.startsWith('\\')) {
      drop = this.ownPair(whole ? head : '');
      if (!drop) this.metaCommand(Buffer.from(head, 'latin1'), 0);
    } else if (this.plainStart && /\S/.test(head) && !/^\s*--/.test(head)) {
      if (this.unrestricted) this.problems.push(`line ${this.line}: SQL after \\unrestrict (pg_dump writes it last)`);
      this.sql = true;
      if (head.startsWith('COPY ') && tail.endsWith(' FROM stdin;') && this.lex.at === 'sql') {
        this.copying = true;
        this.table = copiedTable(Buffer.from(head, 'latin1').toString('utf8')); // names are UTF-8, as pg_class holds them
        if (this.table !== undefined) this.rows[this.table] ??= 0;
      }
      const conforming = /^SET standard_conforming_strings = (on|off);/.exec(head);
      if (conforming !== null) this.standardStrings = conforming[1] === 'on';
    }
    if (this.held !== undefined) this.release(out, drop);
    if (this.lex.at === 'line-comment') this.lex = { at: 'sql' };
    this.skipLine = false;
    this.line += 1;
    this.length = 0;
    this.head = [];
    this.headLength = 0;
    this.tail = Buffer.alloc(0);
  }

  private countRow(): void {
    if (this.table !== undefined) this.rows[this.table] = (this.rows[this.table] ?? 0) + 1;
  }

  /** Whether a line is the dump's own `\restrict` (before anything else) or its matching `\unrestrict`. */
  private ownPair(line: string): boolean {
    const m = RESTRICT.exec(line);
    if (m === null) return false;
    const first = !this.metaSeen && !this.sql;
    this.metaSeen = true;
    if (m[1] === 'restrict' && this.key === undefined && first) {
      this.key = m[2];
      return true;
    }
    if (m[1] === 'unrestrict' && this.key !== undefined && m[2] === this.key && !this.unrestricted) {
      this.unrestricted = true;
      return true;
    }
    return false;
  }
}

/**
 * What psql is given for a restore: the session restricted under `key` first (psql then refuses every
 * meta-command, so `\!` or `\copy ... program` in a dump runs nothing), then one transaction holding the
 * parts, each stream passed through SqlDumpLines, and COMMIT only once every part was read and `ready`
 * passed. Throws, before COMMIT, at the first line pg_dump would not have written, or when `ready` throws.
 * Pure: Buffers in, Buffers out.
 */
export async function* restrictedTransaction(
  parts: ReadonlyArray<Buffer | AsyncIterable<Buffer>>,
  key: string,
  ready: () => void,
): AsyncGenerator<Buffer> {
  if (!/^[A-Za-z0-9]{16,}$/.test(key)) throw new Error('a restrict key is 16 or more letters and digits');
  yield Buffer.from(`\\restrict ${key}\nset client_min_messages = warning;\nbegin;\n`);
  for (const part of parts) {
    if (Buffer.isBuffer(part)) {
      yield part;
      continue;
    }
    const lines = new SqlDumpLines();
    const refuse = () => {
      if (lines.problems.length > 0) throw new Error(`not what pg_dump writes: ${lines.problems[0]}`);
    };
    for await (const chunk of part) {
      yield* lines.push(chunk);
      refuse();
    }
    yield* lines.end();
    refuse();
  }
  ready();
  yield Buffer.from('commit;\n');
}
