import { type Duplex, PassThrough, Readable, type Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { PostgresServiceTarget } from '../../common/backup';
import { pgErrorLines } from '../../common/failure-output';
import { backupFailed } from '../../common/failures';
import { stdoutFrames } from './demux';

/** A PostgreSQL identifier in double quotes, `"` doubled: for the database names sciops writes into SQL. Pure. */
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The user tables that hold rows themselves (a partitioned table's rows are its partitions'), as `from` of the
 * queries below: the tables pg_dump writes a COPY block for, so that counts here and in a dump's stream agree.
 */
const USER_TABLES = `from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'`;

/** One JSON object of `schema.table` to `expr` (a query on %I.%I, whose column is n), in one statement. */
const perTableQuery = (expr: string, cast: string) =>
  `select coalesce(json_object_agg(n.nspname || '.' || c.relname,
     (xpath('/row/n/text()', query_to_xml(format('${expr}', n.nspname, c.relname), false, true, '')))[1]::text::${cast}), '{}')
   ${USER_TABLES}`;

/** Rows per user table. */
export const COUNT_ROWS = perTableQuery('select count(*) as n from %I.%I', 'bigint');
/** Whether each user table holds a row (one row read, no count over a large table). */
export const HAS_ROWS = perTableQuery('select exists (select 1 from %I.%I) as n', 'boolean');
/** The user tables, quoted, comma-separated (empty: none): for a data-only restore's TRUNCATE. */
export const TABLE_LIST = `select coalesce(string_agg(format('%I.%I', n.nspname, c.relname), ', '), '') ${USER_TABLES}`;

/**
 * Runs a command in the database's container (`docker exec`, as the runbook's `docker exec db pg_dump`):
 * an argument list, never a shell string, so no spec field is ever parsed by a shell. `input` is streamed to
 * its stdin (ended when it ends; a broken input kills the exec's connection), its stdout to `stdout`. Fails,
 * with its stderr's ERROR and FATAL lines (masked), when it exits non-zero.
 */
export async function execInDatabase(
  docker: Dockerode,
  containerId: string,
  command: string[],
  io: { input?: AsyncIterable<Buffer>; stdout?: Writable; what: string; signal?: AbortSignal },
): Promise<void> {
  const exec = await docker
    .getContainer(containerId)
    .exec({ Cmd: command, AttachStdin: io.input !== undefined, AttachStdout: true, AttachStderr: true });
  const stream = (await exec.start({ hijack: true, stdin: io.input !== undefined })) as unknown as Duplex;
  let stderr = '';
  const frames = stdoutFrames((chunk) => {
    stderr = (stderr + chunk.toString()).slice(-16_384);
  });
  let broken: Error | undefined;
  io.signal?.addEventListener('abort', () => stream.destroy());
  if (io.input !== undefined) {
    const input = Readable.from(io.input);
    input.on('error', (err) => {
      broken = err;
      stream.destroy();
    });
    input.pipe(stream);
  }
  // The exec exiting early (psql stopping at an error) breaks the input's pipe: its exit code is the one to report.
  stream.on('error', () => undefined);
  const out = stream.pipe(frames);
  if (io.stdout !== undefined) out.pipe(io.stdout, { end: false });
  else out.resume();
  await new Promise<void>((resolve, reject) => {
    frames.on('end', resolve).on('error', reject);
    stream.on('close', () => setImmediate(() => (frames.writableEnded ? undefined : frames.end())));
  });
  if (broken !== undefined) throw broken;
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw backupFailed(`${io.what} failed in the database's container (exit code ${ExitCode}): ${pgErrorLines(stderr)}`);
}

/** The client options of every command: the target's user and database, as option=value (never taken for an option). */
export const connection = (target: PostgresServiceTarget, database = target.database) => [
  `--username=${target.user}`,
  `--dbname=${database}`,
];

/** Runs a command in the database's container (see execInDatabase) and returns what it wrote to stdout. */
export async function execOutput(docker: Dockerode, containerId: string, command: string[], what: string): Promise<string> {
  let out = '';
  const stdout = new PassThrough().on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await execInDatabase(docker, containerId, command, { stdout, what });
  return out;
}

/** Runs one SQL statement with psql in the container and returns its one value, unaligned. */
export async function queryValue(
  docker: Dockerode,
  containerId: string,
  target: PostgresServiceTarget,
  sql: string,
  database?: string,
): Promise<string> {
  const command = ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...connection(target, database), '-c', sql];
  return (await execOutput(docker, containerId, command, 'psql')).replace(/\n$/, '');
}
