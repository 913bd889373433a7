import { randomBytes } from 'node:crypto';
import { PassThrough, Transform } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type Dockerode from 'dockerode';
import type { Destination, DumpRecord, PostgresServiceTarget } from '../../common/backup';
import { fileOf } from '../../common/backup';
import { restrictedTransaction, SqlDumpLines } from '../../common/backup-sql-dump';
import { backupFailed } from '../../common/failures';
import { psqlKnowsRestrict, RESTRICT_RELEASES, serverVersionNum, toolVersionNum } from '../../common/pg-version';
import { compatibleDump } from '../db/pg-dump-compat';
import { type Expected, gunzipped, readChecked } from '../files/backup-checks';
import { backupStore, endWhen } from '../files/backup-store';
import { parallelGzip } from '../files/parallel-gzip';
import { heartbeating } from '../heartbeating';
import { COUNT_ROWS, connection, execInDatabase, execOutput, HAS_ROWS, queryValue, quoteIdent, TABLE_LIST } from './pg-service-exec';

/** Where a dump to restore is, and what it must be (its manifest's size and SHA-256). */
type StoredDump = { destination: Destination; key: string; expected: Expected };
/** A target and the container of its service's running task (the workflow finds it, then calls its node's queue). */
type InTask = { target: PostgresServiceTarget; containerId: string };

/**
 * PostgreSQL targets inside a swarm service (service mode), as the runbook does them with `docker exec db
 * pg_dump`: every command runs in the database's own task, with the server's own tools, over its local socket,
 * so the database needs no published port and the tools always match the server. Streams both ways through the
 * Docker API's exec streams (an argument list, never a shell string). Run these on the task's node queue.
 */
export function createPgServiceBackup(docker: Dockerode, s3: () => S3Client) {
  const value = (t: InTask, sql: string, database?: string) => queryValue(docker, t.containerId, t.target, sql, database);
  const perTable = async <T>(t: InTask, sql: string, database?: string) => JSON.parse(await value(t, sql, database)) as Record<string, T>;

  /** The server's version, and the container's pg_dump and psql; refuses tools that cannot serve it. */
  async function versions(t: InTask, restores: boolean): Promise<{ server: string; pgDump: string; psql: string }> {
    const line = async (tool: string) => (await execOutput(docker, t.containerId, [tool, '--version'], `${tool} --version`)).trim();
    const [server, pgDump, psql] = [await value(t, "select current_setting('server_version')"), await line('pg_dump'), await line('psql')];
    const psqlNum = toolVersionNum(psql);
    if (restores && (psqlNum === undefined || !psqlKnowsRestrict(psqlNum))) {
      throw backupFailed(
        `target ${t.target.name}: psql in service ${t.target.service} is "${psql}", which does not know \\restrict (restores run under it): run PostgreSQL ${RESTRICT_RELEASES} there, or restore through urlEnv with newer tools on the db worker`,
      );
    }
    return { server, pgDump, psql };
  }

  /** `psql` in the container on `database`, fed `parts` as restrictedTransaction frames them (nothing applies before COMMIT). */
  async function restoreInto(t: InTask, database: string, parts: Array<Buffer | AsyncIterable<Buffer>>, what: string, ready: () => void) {
    const key = randomBytes(24).toString('hex');
    await heartbeating({ restoring: what }, (signal) =>
      execInDatabase(docker, t.containerId, ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...connection(t.target, database), '-f', '-'], {
        input: restrictedTransaction(parts, key, ready),
        what: `psql restoring ${what}`,
        signal,
      }),
    );
  }

  /** A data-only restore's TRUNCATE of every user table (empty when there are none), in its transaction. */
  const truncation = async (t: InTask) => {
    const tables = await value(t, TABLE_LIST);
    return tables === '' ? '' : `truncate ${tables} cascade;\n`;
  };

  /** Runs `sql` statements one by one, outside any transaction (CREATE and DROP DATABASE), connected to `database`. */
  const admin = async (t: InTask, database: string, ...sql: string[]) => {
    for (const statement of sql) await value(t, statement, database);
  };

  return {
    /** The workflows' check before any side effect: the service's task answers, and its tools can dump (and restore). */
    async checkPostgresService(input: InTask & { restores: boolean }): Promise<{ server: string }> {
      const { server } = await versions(input, input.restores);
      return { server };
    },

    /**
     * `pg_dump [--data-only] | gzip` inside the task into a backup store, streamed, heartbeating the bytes. The
     * manifest's rows per table are counted in the dump itself as it passes (its COPY blocks): exactly what the
     * file holds, with no second snapshot to agree with it. A failed pg_dump fails the write: nothing is published.
     */
    async dumpPostgresService(
      input: InTask & { destination: Destination; key: string; keepOwners?: boolean; gzipLevel?: number },
    ): Promise<DumpRecord> {
      const { server, pgDump } = await versions(input, false);
      const store = backupStore(input.destination, s3);
      const args = ['pg_dump', ...connection(input.target), ...(input.keepOwners ? [] : ['--no-owner', '--no-privileges'])];
      if (input.target.mode === 'data-only') args.push('--data-only');
      const lines = new SqlDumpLines();
      const progress = { target: input.target.name, bytes: 0 };
      const written = await heartbeating(progress, async (signal) => {
        const counted = new Transform({
          transform(chunk: Buffer, _enc, done) {
            lines.push(chunk);
            done(null, chunk);
          },
        });
        const gzip = parallelGzip({ level: input.gzipLevel });
        counted.on('error', (err) => gzip.destroy(err));
        counted.pipe(gzip);
        // The dump ends only once pg_dump exited 0: a failed dump errors the write instead of completing it.
        endWhen(counted, execInDatabase(docker, input.containerId, args, { stdout: counted, what: 'pg_dump', signal }));
        return store.write(input.key, gzip, (bytes) => {
          progress.bytes = bytes;
        });
      });
      lines.end();
      return { target: input.target.name, kind: 'postgres', file: fileOf(input.key), ...written, tool: pgDump, server, tables: lines.rows };
    },

    /** The tables of the target database that hold at least one row (restore refuses those unless forced). */
    async postgresServiceTablesWithRows(input: InTask): Promise<string[]> {
      return Object.entries(await perTable<boolean>(input, HAS_ROWS))
        .filter(([, any]) => any)
        .map(([table]) => table)
        .sort();
    },

    /**
     * Streams a dump back into the service's database: `gunzip | psql` inside the task, restricted and in one
     * transaction, committed only once every byte was read and matches the manifest. Data-only: into the tables
     * the migrations made, emptied in the same transaction; full: into the database dropped and made anew.
     * Returns rows per table.
     */
    async restorePostgresService(input: InTask & StoredDump): Promise<Record<string, number>> {
      const { server } = await versions(input, true);
      const source = await readChecked(backupStore(input.destination, s3), input.key, input.expected);
      const archive = gunzipped(source.stream);
      const { target } = input;
      const preamble = await (target.mode === 'full'
        ? admin(
            input,
            'postgres', // the database dropped and made anew cannot be the one connected to
            `drop database if exists ${quoteIdent(target.database)} with (force)`,
            `create database ${quoteIdent(target.database)} owner ${quoteIdent(target.user)}`,
          ).then(() => '')
        : truncation(input)
      ).catch((err: unknown) => {
        archive.destroy();
        throw err;
      });
      const sql = compatibleDump(archive, serverVersionNum(server) as number);
      await restoreInto(input, target.database, [Buffer.from(preamble), sql], input.key, source.check);
      return heartbeating({ counting: target.database }, () => perTable<number>(input, COUNT_ROWS));
    },

    /**
     * Restores a dump into a scratch database in the same server (a data-only dump after the database's own
     * schema, `pg_dump --schema-only` piped into it) and returns its rows per table; the scratch database,
     * `sciops_verify_<random>`, is dropped whatever happens.
     */
    async verifyPostgresServiceDump(input: InTask & StoredDump): Promise<Record<string, number>> {
      const { server } = await versions(input, true);
      const scratch = `sciops_verify_${randomBytes(8).toString('hex')}`;
      await admin(input, input.target.database, `create database ${quoteIdent(scratch)} owner ${quoteIdent(input.target.user)}`);
      try {
        if (input.target.mode === 'data-only') {
          const schema = new PassThrough();
          const dumped = execInDatabase(
            docker,
            input.containerId,
            ['pg_dump', ...connection(input.target), '--schema-only', '--no-owner', '--no-privileges'],
            { stdout: schema, what: 'pg_dump --schema-only' },
          );
          endWhen(schema, dumped);
          await restoreInto(input, scratch, [compatibleDump(schema, serverVersionNum(server) as number)], 'the schema', () => undefined);
        }
        const source = await readChecked(backupStore(input.destination, s3), input.key, input.expected);
        const sql = compatibleDump(gunzipped(source.stream), serverVersionNum(server) as number);
        await restoreInto(input, scratch, [sql], input.key, source.check);
        return await heartbeating({ counting: scratch }, () => perTable<number>(input, COUNT_ROWS, scratch));
      } finally {
        await admin(input, input.target.database, `drop database if exists ${quoteIdent(scratch)} with (force)`);
      }
    },
  };
}
