import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from 'pg';
import { type Destination, type DumpRecord, fileOf, type PostgresTarget } from '../../common/backup';
import { restrictedTransaction } from '../../common/backup-sql-dump';
import { pgErrorLines } from '../../common/failure-output';
import { backupFailed, Failure, type FailureType, permanent } from '../../common/failures';
import { type ClientAndServer, RESTRICT_RELEASES, serverVersionNum } from '../../common/pg-version';
import { type Expected, gunzipped, readChecked } from '../files/backup-checks';
import { backupStore, endWhen } from '../files/backup-store';
import { parallelGzip } from '../files/parallel-gzip';
import { heartbeating } from '../heartbeating';
import { checkPgClient } from './pg-client-check';
import { libpq, withPg } from './pg-connection';
import { createScratchDatabase, dropScratchDatabase, recreateDatabase } from './pg-databases';
import { compatibleDump } from './pg-dump-compat';
import { pgTools } from './pg-tools';
import { type PgConnection, pgUrlFromEnv } from './url-from-env';

/** Where a dump to restore is, and what it must be (its manifest's size and SHA-256). */
type StoredDump = { destination: Destination; key: string; expected: Expected };

type UserTable = { readonly schema: string; readonly table: string };

/** The user tables of the database (partitions count with their parent). */
async function userTables(client: Client): Promise<UserTable[]> {
  const { rows } = await client.query<UserTable>(
    `select n.nspname as schema, c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and not c.relispartition
       and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
     order by 1, 2`,
  );
  return rows;
}

const quoted = (client: Client, t: UserTable) => `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.table)}`;

/** Rows per user table (`schema.table`), in the client's current transaction. */
export async function countRows(client: Client): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of await userTables(client)) {
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${quoted(client, t)}`);
    counts[`${t.schema}.${t.table}`] = Number(rows[0]?.n);
  }
  return counts;
}

/**
 * Waits for a child to exit; rejects, when it fails, with its stderr's ERROR and FATAL lines (values masked):
 * never the CONTEXT or DETAIL lines, which hold the rows and keys of the dump (see pgErrorLines).
 */
function exited(child: ChildProcess, what: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Enough for the ERROR line before a long CONTEXT; only what pgErrorLines keeps of it is ever shown.
    stderr = (stderr + chunk.toString()).slice(-16_384);
  });
  return new Promise((resolve, reject) => {
    child.on('error', (err) =>
      reject(backupFailed(`${what} could not start: ${err.message} (is the PostgreSQL client installed on the db worker?)`)),
    );
    const old = () => (/invalid command \\restrict/.test(stderr) ? ` (restores need psql ${RESTRICT_RELEASES})` : '');
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(backupFailed(`${what} failed (${signal ?? `exit code ${code}`}): ${pgErrorLines(stderr)}${old()}`)),
    );
  });
}

/**
 * `pg_dump [--data-only] | gzip` into a backup store, as one stream: constant memory, heartbeating the bytes
 * written. The row counts and the dump come from one snapshot (pg_export_snapshot + pg_dump --snapshot), so the
 * manifest describes exactly what the file holds. A failed pg_dump fails the write: nothing is published.
 * Owners and grants are left out, except with `keepOwners` (a safety backup, put back into the same server).
 * Every activity that changes something first holds the worker's client tools (SCIOPS_PG_BIN_DIR's, else PATH's)
 * to the server's version (see checkPgClient), so that tools too old for it are refused before that change.
 */
export function createPgBackup(s3: () => S3Client) {
  return {
    /**
     * The workflows' check, before their first side effect (a lock, a paused service, a written file): refuses
     * a target whose server this worker's client tools cannot dump (or, with `restores`, restore into). Reads
     * versions only; returns them.
     */
    async checkPostgresClient(input: { target: PostgresTarget; restores: boolean }): Promise<ClientAndServer> {
      return withPg(pgUrlFromEnv(input.target.urlEnv), (client) => checkPgClient(client, input.target.name, input.restores));
    },

    async dumpPostgres(input: {
      target: PostgresTarget;
      destination: Destination;
      key: string;
      keepOwners?: boolean;
      gzipLevel?: number;
    }): Promise<DumpRecord> {
      const pg = pgUrlFromEnv(input.target.urlEnv);
      const store = backupStore(input.destination, s3);
      return withPg(pg, async (client) => {
        // Read before anything is written to the store: a pg_dump too old for the server fails here, by name.
        const { pgDump } = await checkPgClient(client, input.target.name, false);
        await client.query('begin isolation level repeatable read, read only');
        const snapshot = (await client.query<{ id: string }>('select pg_export_snapshot() as id')).rows[0]?.id as string;
        // A count of each table: on a large database it takes a while, so it heartbeats too.
        const tables = await heartbeating({ target: input.target.name, counting: 'rows' }, () => countRows(client));
        const server = (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v as string;
        const progress = { target: input.target.name, bytes: 0 };
        const written = await heartbeating(progress, async (signal) => {
          const args = ['--snapshot', snapshot, ...(input.keepOwners ? [] : ['--no-owner', '--no-privileges'])];
          if (input.target.mode === 'data-only') args.push('--data-only');
          const child = spawn(pgTools().pg_dump, args, { env: libpq(pg), stdio: ['ignore', 'pipe', 'pipe'] });
          signal.addEventListener('abort', () => child.kill('SIGTERM'));
          // Compressed on every core (members of one .gz): one gzip would hold pg_dump back on data that compresses like real data.
          const gzip = parallelGzip({ level: input.gzipLevel });
          // The gzip stream ends only once pg_dump exited 0: a failed dump errors the write instead of completing it.
          child.stdout.pipe(gzip, { end: false });
          endWhen(gzip, exited(child, 'pg_dump'));
          return store.write(input.key, gzip, (bytes) => {
            progress.bytes = bytes;
          });
        });
        await client.query('commit');
        return {
          target: input.target.name,
          kind: 'postgres',
          file: fileOf(input.key),
          ...written,
          tool: pgDump,
          server,
          tables,
        };
      });
    },

    /** The tables of the target database that hold at least one row (restore refuses those unless forced). */
    async postgresTablesWithRows(input: { urlEnv: string }): Promise<string[]> {
      return withPg(pgUrlFromEnv(input.urlEnv), async (client) => {
        const found: string[] = [];
        for (const table of await userTables(client)) {
          // One row is enough to know: no count(*) over a large table.
          const { rows } = await client.query<{ any: boolean }>(`select exists (select 1 from ${quoted(client, table)}) as any`);
          if (rows[0]?.any) found.push(`${table.schema}.${table.table}`);
        }
        return found;
      });
    },

    /**
     * Streams a dump back: `gunzip | psql`, restricted and in one transaction. A data-only dump goes into the
     * tables the migrations made, emptied first in the same transaction; a full dump goes into a database
     * dropped and created anew. The bytes are hashed as they stream, and COMMIT is sent only once all of them
     * were read and match the manifest: an altered, truncated or broken stream changes nothing. Returns rows per table.
     */
    async restorePostgres(input: StoredDump & { urlEnv: string; mode: PostgresTarget['mode'] }): Promise<Record<string, number>> {
      const pg = pgUrlFromEnv(input.urlEnv);
      const { server } = await withPg(pg, (client) => checkPgClient(client, `in ${input.urlEnv}`, true));
      const progress = { restoring: input.key, bytes: 0, total: 0 };
      // Opened first: a file that is gone, or another version than the one checked, fails before any change.
      const source = await readChecked(backupStore(input.destination, s3), input.key, input.expected, (bytes, total) => {
        progress.bytes = bytes;
        progress.total = total;
      });
      const archive = gunzipped(source.stream);
      const emptied = input.mode === 'full' ? recreateDatabase(pg).then(() => '') : truncation(pg);
      const preamble = await emptied.catch((err: unknown) => {
        archive.destroy();
        throw err;
      });
      const sql = compatibleDump(archive, serverVersionNum(server) as number);
      return heartbeating(progress, async (signal) => {
        await psql(pg, [Buffer.from(preamble), sql], signal, input.key, source.check);
        return rowsOf(pg);
      });
    },

    /**
     * Restores a dump into a scratch database beside the source (a data-only dump after the source's schema)
     * and returns its rows per table, for the caller to compare with the manifest. The scratch database is
     * `sciops_verify_<random>`: far from PostgreSQL's 63-byte limit, so never the source however long its
     * name, created anew and marked, and dropped only while it carries this run's mark.
     */
    async verifyPostgresDump(input: StoredDump & { target: PostgresTarget }): Promise<Record<string, number>> {
      const pg = pgUrlFromEnv(input.target.urlEnv);
      const store = backupStore(input.destination, s3);
      const { server } = await withPg(pg, (client) => checkPgClient(client, input.target.name, true));
      const forServer = (sql: AsyncIterable<Buffer>) => compatibleDump(sql, serverVersionNum(server) as number);
      const scratch = await createScratchDatabase(pg);
      try {
        return await heartbeating({ verifying: input.key }, async (signal) => {
          if (input.target.mode === 'data-only') {
            const schema = spawn(pgTools().pg_dump, ['--schema-only', '--no-owner', '--no-privileges'], {
              env: libpq(pg),
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            await Promise.all([
              psql(scratch.pg, [forServer(schema.stdout)], signal, 'the schema'),
              exited(schema, 'pg_dump --schema-only'),
            ]);
          }
          const source = await readChecked(store, input.key, input.expected);
          await psql(scratch.pg, [forServer(gunzipped(source.stream))], signal, input.key, source.check);
          return rowsOf(scratch.pg);
        });
      } finally {
        await dropScratchDatabase(scratch);
      }
    },
  };
}

const rowsOf = (pg: PgConnection) => withPg(pg, countRows);

/** TRUNCATE of every user table (none when there are none), for a data-only restore's transaction. */
const truncation = (pg: PgConnection) =>
  withPg(pg, async (client) => {
    const tables = (await userTables(client)).map((t) => quoted(client, t));
    return tables.length > 0 ? `truncate ${tables.join(', ')} cascade;\n` : '';
  });

/**
 * Feeds SQL to psql on `pg` as restrictedTransaction frames it: restricted under a key of this run's, in one
 * transaction committed only after every part was read and `ready` passed. A source that breaks, a line
 * pg_dump never writes or a failed `ready` kills psql before COMMIT: nothing is applied.
 */
async function psql(
  pg: PgConnection,
  parts: Array<Buffer | AsyncIterable<Buffer>>,
  signal: AbortSignal,
  what: string,
  ready: () => void = () => undefined,
): Promise<void> {
  const child = spawn(pgTools().psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
    env: libpq(pg),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  signal.addEventListener('abort', () => child.kill('SIGTERM'));
  const done = exited(child, 'psql');
  let broken: Error | undefined;
  const feed = Readable.from(restrictedTransaction(parts, randomBytes(24).toString('hex'), ready));
  feed.on('error', (err) => {
    broken = err;
    child.kill('SIGKILL');
  });
  child.stdin?.on('error', () => undefined); // psql exiting early: its own error is the one to report
  feed.pipe(child.stdin as Writable);
  await done
    .catch((err: unknown) => {
      if (broken === undefined) throw err;
      // A failure the dump's reader threw (its type is one of Failure's) keeps its type; a read error is the backup's.
      const type = broken instanceof ApplicationFailure && broken.type ? (broken.type as FailureType) : Failure.backupFailed;
      const message = broken instanceof ApplicationFailure ? broken.message : `reading ${what}: ${broken.message}`;
      throw permanent(type, `${message}; nothing of it was applied`);
    })
    .finally(() => feed.destroy());
}
