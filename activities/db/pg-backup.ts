import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from 'pg';
import { type Destination, type DumpRecord, fileOf, type PostgresTarget } from '../../common/backup';
import { BACKUP_FAILED_TYPE } from '../../common/backup-failures';
import { backupStore, endWhen } from '../files/backup-store';
import { heartbeating } from '../heartbeating';
import { urlFromEnv } from './url-from-env';

const failed = (message: string) => ApplicationFailure.create({ type: BACKUP_FAILED_TYPE, nonRetryable: true, message });

/** libpq's variables for a URL: the password reaches pg_dump and psql through the environment, not argv. */
export function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {
    PGHOST: decodeURIComponent(u.hostname) || 'localhost',
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: databaseOf(url),
  };
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode !== null) env.PGSSLMODE = sslmode;
  return env;
}

/** Runs `work` on a connection of its own to `url`, closed afterwards whatever happens. */
async function withPg<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The database a URL names, and the URL of the same server's maintenance database (`postgres`). */
const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));
function maintenanceUrl(url: string): string {
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  return maintenance.toString();
}

interface UserTable {
  readonly schema: string;
  readonly table: string;
}

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

/** Waits for a child to exit; rejects with its last stderr lines when it fails. */
function exited(child: ChildProcess, what: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    child.on('error', (err) =>
      reject(failed(`${what} could not start: ${err.message} (is the PostgreSQL client installed on the db worker?)`)),
    );
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(failed(`${what} failed (${signal ?? `exit code ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`)),
    );
  });
}

const toolVersion = async (tool: string) => (await promisify(execFile)(tool, ['--version'])).stdout.trim();

/**
 * `pg_dump [--data-only] | gzip` into a backup store, as one stream: constant memory, heartbeating the bytes
 * written. The row counts and the dump come from one snapshot (pg_export_snapshot + pg_dump --snapshot), so the
 * manifest describes exactly what the file holds. A failed pg_dump fails the write: nothing is published.
 */
export function createPgBackup(s3: () => S3Client) {
  return {
    async dumpPostgres(input: {
      target: PostgresTarget;
      mode?: PostgresTarget['mode'];
      destination: Destination;
      key: string;
    }): Promise<DumpRecord> {
      const url = urlFromEnv(input.target.urlEnv);
      const mode = input.mode ?? input.target.mode;
      const store = backupStore(input.destination, s3);
      return withPg(url, async (client) => {
        await client.query('begin isolation level repeatable read, read only');
        const snapshot = (await client.query<{ id: string }>('select pg_export_snapshot() as id')).rows[0]?.id as string;
        const tables = await countRows(client);
        const server = (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v as string;
        const progress = { target: input.target.name, bytes: 0 };
        const written = await heartbeating(progress, async (signal) => {
          const args = ['--snapshot', snapshot, '--no-owner', '--no-privileges', ...(mode === 'data-only' ? ['--data-only'] : [])];
          const child = spawn('pg_dump', args, { env: { ...process.env, ...libpqEnv(url) }, stdio: ['ignore', 'pipe', 'pipe'] });
          signal.addEventListener('abort', () => child.kill('SIGTERM'));
          const gzip = createGzip();
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
          tool: await toolVersion('pg_dump'),
          server,
          tables,
        };
      });
    },

    /** The tables of the target database that hold at least one row (restore refuses those unless forced). */
    async postgresTablesWithRows(input: { urlEnv: string }): Promise<string[]> {
      return withPg(urlFromEnv(input.urlEnv), async (client) => {
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
     * Streams a dump back: `gunzip | psql --single-transaction`. A data-only dump goes into the tables the
     * migrations made, which are emptied first in the same transaction (a failure leaves them as they were);
     * a full dump goes into a database dropped and created anew. Returns the rows per table afterwards.
     */
    async restorePostgres(input: {
      urlEnv: string;
      mode: PostgresTarget['mode'];
      destination: Destination;
      key: string;
    }): Promise<Record<string, number>> {
      const url = urlFromEnv(input.urlEnv);
      const store = backupStore(input.destination, s3);
      let preamble = '';
      if (input.mode === 'full') {
        await recreateDatabase(url);
      } else {
        const tables = await withPg(url, async (client) => (await userTables(client)).map((t) => quoted(client, t)));
        if (tables.length > 0) preamble = `truncate ${tables.join(', ')} cascade;\n`;
      }
      const progress = { restoring: input.key, bytes: 0, total: 0 };
      await heartbeating(progress, async (signal) => {
        const source = await store.read(input.key, (bytes, total) => {
          progress.bytes = bytes;
          progress.total = total;
        });
        await psql(url, [Buffer.from(preamble), source.pipe(createGunzip())], signal, input.key);
      });
      return rowsOf(url);
    },

    /**
     * Restores a dump into a scratch database beside the source (`<db>_sciops_verify`, dropped afterwards) and
     * returns its rows per table, for the caller to compare with the manifest. A data-only dump first gets the
     * source's schema (`pg_dump --schema-only`).
     */
    async verifyPostgresDump(input: { target: PostgresTarget; destination: Destination; key: string }): Promise<Record<string, number>> {
      const url = urlFromEnv(input.target.urlEnv);
      const scratch = new URL(url);
      scratch.pathname = `/${databaseOf(url)}_sciops_verify`;
      const store = backupStore(input.destination, s3);
      await recreateDatabase(scratch.toString());
      try {
        return await heartbeating({ verifying: input.key }, async (signal) => {
          if (input.target.mode === 'data-only') {
            const schema = spawn('pg_dump', ['--schema-only', '--no-owner', '--no-privileges'], {
              env: { ...process.env, ...libpqEnv(url) },
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            await Promise.all([psql(scratch.toString(), [schema.stdout], signal, 'the schema'), exited(schema, 'pg_dump --schema-only')]);
          }
          await psql(scratch.toString(), [(await store.read(input.key)).pipe(createGunzip())], signal, input.key);
          return rowsOf(scratch.toString());
        });
      } finally {
        await dropDatabase(scratch.toString());
      }
    },
  };
}

const rowsOf = (url: string) => withPg(url, countRows);

/**
 * Feeds SQL to `psql --single-transaction` on `url`. psql commits at the end of its input, so a source that
 * breaks kills it instead of closing its stdin: then nothing of this input is applied.
 */
async function psql(url: string, parts: Array<Buffer | AsyncIterable<Buffer>>, signal: AbortSignal, what: string): Promise<void> {
  const child = spawn(
    'psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-c', 'set client_min_messages = warning', '-f', '-'],
    {
      env: { ...process.env, ...libpqEnv(url) },
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
  signal.addEventListener('abort', () => child.kill('SIGTERM'));
  const done = exited(child, 'psql');
  async function* sql() {
    for (const part of parts) {
      if (Buffer.isBuffer(part)) yield part;
      else yield* part;
    }
  }
  let broken: Error | undefined;
  const feed = Readable.from(sql()).on('error', (err) => {
    broken = err;
    child.kill('SIGKILL');
  });
  child.stdin?.on('error', () => undefined); // psql exiting early: its own error is the one to report
  feed.pipe(child.stdin as Writable);
  await done.catch((err: unknown) => {
    throw broken === undefined ? err : failed(`reading ${what}: ${broken.message}; nothing of it was applied`);
  });
}

async function dropDatabase(url: string): Promise<void> {
  await withPg(maintenanceUrl(url), (client) =>
    client.query(`drop database if exists ${client.escapeIdentifier(databaseOf(url))} with (force)`),
  );
}

/** DROP DATABASE ... WITH (FORCE) and CREATE DATABASE, from the server's maintenance database. */
async function recreateDatabase(url: string): Promise<void> {
  await withPg(maintenanceUrl(url), async (client) => {
    const name = client.escapeIdentifier(databaseOf(url));
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  });
}
