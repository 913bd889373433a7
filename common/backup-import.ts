import { z } from 'zod';
import { type BackupTarget, backupSpecSchema, NAME, NAME_RULE } from './backup';

/**
 * Importing a dump made outside sciops (the runbook's `pg_dump --data-only | gzip`, `mongodump --archive
 * --gzip`, a `tar czf` of a volume) as a run of a backup: the input, where its file may be, and the pure
 * checks of a SQL dump's shape and line ends.
 */

/** A file to import: an absolute path on the worker of the target's kind, or an S3 object. */
export type ImportSource =
  | { readonly kind: 'local'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string };

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

/** Where an import's file is, or why the text names no such place. Pure. */
export function parseImportSource(file: string): ImportSource | { problem: string } {
  const s3 = S3_URL.exec(file);
  if (s3 !== null) {
    const key = s3[2] as string;
    if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) return { problem: 'an S3 key without empty, . or .. segments' };
    return { kind: 's3', bucket: s3[1] as string, key };
  }
  if (file.startsWith('s3:')) return { problem: 'an S3 URL s3://BUCKET/KEY' };
  if (!file.startsWith('/')) return { problem: 'an absolute path on the worker (under its SCIOPS_BACKUP_DIR), or s3://BUCKET/KEY' };
  if (file.split('/').some((s) => s === '.' || s === '..')) return { problem: 'a path without . or .. (write it as the file it is)' };
  if (file.endsWith('/')) return { problem: 'a file, not a directory' };
  return { kind: 'local', path: file };
}

/** What `importBackup` is given: which file, as a run of which backup's target. */
export const importInputSchema = z
  .strictObject({
    spec: backupSpecSchema.describe("the backup's spec: the run goes to its destination, the file is of its target `target`"),
    target: z.string().regex(NAME, `a target name: ${NAME_RULE}`).describe('the target of the spec the file is a dump of'),
    kind: z.enum(['postgres', 'mongo', 'volume']).describe("what the file is: the target's kind (a check that the right file is given)"),
    file: z
      .string()
      .superRefine((f, ctx) => {
        const parsed = parseImportSource(f);
        if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: parsed.problem });
      })
      .describe(
        "an absolute path under SCIOPS_BACKUP_DIR on the worker of the target's kind (db: postgres, mongo; docker: volume), or s3://BUCKET/KEY",
      ),
    takenAt: z.iso.datetime({ offset: true }).optional().describe('when the file was made (recorded in the manifest)'),
  })
  .superRefine((input, ctx) => {
    const target = input.spec.targets.find((t) => t.name === input.target);
    if (target === undefined) {
      const have = input.spec.targets.map((t) => t.name).join(', ');
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: `"${input.target}" is not a target of backup ${input.spec.name} (it has ${have})`,
      });
    } else if (target.kind !== input.kind) {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: `${input.kind}, but target ${target.name} of backup ${input.spec.name} is ${target.kind}`,
      });
    }
  });

export type ImportInput = z.infer<typeof importInputSchema>;

/** The target an (already validated) import input names. Pure. */
export function importedTarget(input: ImportInput): BackupTarget {
  return input.spec.targets.find((t) => t.name === input.target) as BackupTarget;
}

/** What checking an import's file found: what storing it takes, and what to record. */
export interface ImportCheck {
  /** Size and SHA-256 of the original file: storing it reads exactly these bytes again, or fails. */
  readonly bytes: number;
  readonly sha256: string;
  /** CRLF line ends (`docker exec -t`) are made LF on the way in. */
  readonly crlf: boolean;
  /** The file was not gzipped: it is gzipped on the way in. */
  readonly gzip: boolean;
  /** The manifest's `tool`: what wrote it, and that sciops checked its format. */
  readonly tool: string;
  readonly server?: string;
  /** MongoDB: the database the archive holds, whose collections a restore takes. */
  readonly database?: string;
}

/** What an import returns. */
export interface ImportReport {
  readonly backup: string;
  readonly run: string;
  readonly location: string;
  readonly target: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly repaired: readonly string[];
  readonly counts: string;
}

/** The repairs an import made, in words (for the manifest and the report). Pure. */
export function repairsOf(check: Pick<ImportCheck, 'crlf' | 'gzip'>): string[] {
  return [...(check.crlf ? ['CRLF line ends made LF'] : []), ...(check.gzip ? ['gzipped'] : [])];
}

const NEWLINE = 0x0a;
const CR = 0x0d;
/** The bytes of a line kept to classify it. */
const HEAD = 200;

/**
 * The shape of a plain SQL dump as it streams (constant memory): whether pg_dump wrote it (its header, and
 * its last line, so not truncated), whether it holds the schema (a CREATE outside COPY data), the versions
 * it names, and its line ends (CRLF throughout, as `docker exec -t` makes them, or not). Pure.
 */
export class SqlDumpShape {
  lines = 0;
  crlfLines = 0;
  /** The line of the first CREATE statement (a dump with the schema), if any. */
  createAt: number | undefined;
  header = false;
  complete = false;
  pgDump: string | undefined;
  server: string | undefined;
  private head: Buffer[] = [];
  private headLength = 0;
  private lastByte = 0;
  private length = 0;
  private copying = false;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, at);
      const end = newline === -1 ? chunk.length : newline;
      const piece = chunk.subarray(at, end);
      if (this.headLength < HEAD && piece.length > 0) {
        const part = piece.subarray(0, HEAD - this.headLength);
        this.head.push(part);
        this.headLength += part.length;
      }
      if (piece.length > 0) this.lastByte = piece[piece.length - 1] as number;
      this.length += piece.length;
      if (newline === -1) return;
      this.lineEnded(true);
      at = newline + 1;
    }
  }

  end(): void {
    if (this.length > 0) this.lineEnded(false);
  }

  /** CRLF throughout: every line (the last too, when it ends) ends in CR LF. */
  get crlf(): boolean {
    return this.lines > 0 && this.crlfLines === this.lines;
  }

  private lineEnded(newline: boolean): void {
    this.lines += 1;
    const cr = newline && this.length > 0 && this.lastByte === CR;
    if (cr) this.crlfLines += 1;
    const line = Buffer.concat(this.head).toString('utf8').replace(/\r$/, '');
    if (this.copying) {
      if (line === '\\.') this.copying = false;
    } else {
      if (this.lines <= 5 && line === '-- PostgreSQL database dump') this.header = true;
      if (line === '-- PostgreSQL database dump complete') this.complete = true;
      const version = /^-- Dumped (from database|by pg_dump) version (.+)$/.exec(line);
      if (version?.[1] === 'from database') this.server ??= version[2];
      if (version?.[1] === 'by pg_dump') this.pgDump ??= version[2];
      if (/^CREATE /i.test(line)) this.createAt ??= this.lines;
      if (/^COPY .* FROM stdin;$/.test(line) || (/^COPY /.test(line) && this.length > HEAD)) this.copying = true;
    }
    this.head = [];
    this.headLength = 0;
    this.length = 0;
    this.lastByte = 0;
  }
}

/**
 * Makes CR LF line ends LF, as they stream: for a dump whose every line ends in CR LF (SqlDumpShape.crlf), so
 * no CR of the data is touched. A CR at a chunk's end is held until the next byte is known. Pure.
 */
export class CrlfToLf {
  private pending = false;

  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const parts: Buffer[] = [];
    if (this.pending) {
      this.pending = false;
      if (chunk[0] !== NEWLINE) parts.push(Buffer.of(CR));
    }
    let from = 0;
    for (let at = chunk.indexOf(CR); at !== -1; at = chunk.indexOf(CR, at + 1)) {
      if (at === chunk.length - 1) {
        parts.push(chunk.subarray(from, at));
        this.pending = true;
        from = chunk.length;
        break;
      }
      if (chunk[at + 1] === NEWLINE) {
        parts.push(chunk.subarray(from, at));
        from = at + 1;
      }
    }
    parts.push(chunk.subarray(from));
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  end(): Buffer {
    return this.pending ? Buffer.of(CR) : Buffer.alloc(0);
  }
}

/**
 * Why a SQL dump's shape is not what a target of `mode` restores, or undefined: not pg_dump's plain format,
 * truncated, or with (data-only) or without (full) the schema. Pure.
 */
export function sqlDumpProblem(shape: SqlDumpShape, mode: 'data-only' | 'full'): string | undefined {
  if (!shape.header) return "not a plain SQL dump of pg_dump: it does not begin with pg_dump's header (-- PostgreSQL database dump)";
  if (!shape.complete) return "it ends before pg_dump's last line (-- PostgreSQL database dump complete): truncated";
  if (mode === 'data-only' && shape.createAt !== undefined)
    return `it holds the schema (CREATE at line ${shape.createAt}), but the target is data-only: give a dump made with pg_dump --data-only`;
  if (mode === 'full' && shape.createAt === undefined)
    return 'it holds no schema (no CREATE), but the target is full: give a dump made without --data-only, or a data-only target';
  return undefined;
}
