import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Pool } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgBackup } from '../../activities/db/pg-backup';
import { VERSION_QUERY } from '../../activities/db/pg-client-check';
import { createServerHealth } from '../../activities/db/server-health';
import type { BackupReport, DumpRecord } from '../../common/backup';
import { Failure } from '../../common/failures';
import { Queue } from '../../common/queues';
import { WorkflowType } from '../../common/workflow-types';
import { tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';
import { createSleepingService, removeService } from '../support/services';

// Issue 14: client tools older than the server are refused before anything is changed, naming the fix.
const FIX = 'use a newer client via SCIOPS_PG_BIN_DIR (a directory with pg_dump and psql of major ≥ 99)';

/** What one connection to the fake server did: its startup parameters and every message it sent after. */
interface Session {
  readonly params: Record<string, string>;
  readonly queries: string[];
  readonly other: string[];
}

/**
 * A PostgreSQL server of version 99.0 as far as the wire protocol goes (protocol 3.0, no TLS, trust
 * authentication): it announces `server_version` 99.0 in its ParameterStatus messages, as a real server does
 * at startup, and answers the version query the db worker runs, and pg_dump's first statement, as a real one
 * would. Any other message is answered with an error and recorded: the tests assert there is none.
 */
class FakeNewerServer {
  readonly sessions: Session[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  url(database = 'app'): string {
    return `postgresql://sciops:secret@127.0.0.1:${this.port}/${database}`;
  }

  /** Every SQL text or other message the connections from the `from`th on sent, besides the version query. */
  traffic(from: number): string[] {
    return this.sessions.slice(from).flatMap((s) => [...s.queries.filter((q) => q !== VERSION_QUERY), ...s.other]);
  }

  private serve(socket: Socket): void {
    let buffer = Buffer.alloc(0);
    let session: Session | undefined;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (session === undefined) {
          // Before the startup message: length and code only (SSLRequest, GSSENCRequest, StartupMessage).
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          const body = buffer.subarray(8, length);
          buffer = buffer.subarray(length);
          if (code === 80877103 || code === 80877104) {
            socket.write('N'); // no TLS, no GSS encryption: the client goes on in plain text
            continue;
          }
          if (code !== 196608) {
            socket.destroy();
            return;
          }
          const parts = body.toString('utf8').split('\0');
          const params: Record<string, string> = {};
          for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) params[parts[i] as string] = parts[i + 1] as string;
          session = { params, queries: [], other: [] };
          this.sessions.push(session);
          socket.write(
            Buffer.concat([
              message('R', int32(0)), // AuthenticationOk
              parameter('server_version', '99.0'),
              parameter('server_encoding', 'UTF8'),
              parameter('client_encoding', params.client_encoding ?? 'UTF8'),
              parameter('DateStyle', 'ISO, MDY'),
              parameter('integer_datetimes', 'on'),
              parameter('standard_conforming_strings', 'on'),
              parameter('TimeZone', 'UTC'),
              message('K', Buffer.concat([int32(4242), int32(1)])),
              ready(),
            ]),
          );
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0] as number);
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const body = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (type === 'X') {
          socket.end();
          return;
        }
        if (type !== 'Q') {
          session.other.push(`message ${type}`);
          socket.write(Buffer.concat([error('0A000', `the fake server takes simple queries only, not ${type}`), ready()]));
          continue;
        }
        const sql = body.subarray(0, body.length - 1).toString('utf8');
        session.queries.push(sql);
        if (sql === VERSION_QUERY) socket.write(rows(['version', 'num'], [['99.0', '990000']]));
        else if (/^SELECT pg_catalog\.set_config\('search_path', '', false\);?$/.test(sql)) socket.write(rows(['set_config'], [['']]));
        else socket.write(Buffer.concat([error('0A000', 'the fake server answers the version query only'), ready()]));
      }
    });
  }
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const cstring = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const message = (type: string, body: Buffer) => Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
const parameter = (name: string, value: string) => message('S', Buffer.concat([cstring(name), cstring(value)]));
const ready = () => message('Z', Buffer.from('I'));
const error = (code: string, text: string) =>
  message('E', Buffer.concat([cstring('SERROR'), cstring('VERROR'), cstring(`C${code}`), cstring(`M${text}`), Buffer.from([0])]));
/** RowDescription (text columns), DataRows, CommandComplete and ReadyForQuery: a simple query's whole answer. */
function rows(columns: string[], values: string[][]): Buffer {
  const field = (name: string) => Buffer.concat([cstring(name), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)]);
  const data = (row: string[]) =>
    message('D', Buffer.concat([int16(row.length), ...row.flatMap((v) => [int32(Buffer.byteLength(v)), Buffer.from(v)])]));
  return Buffer.concat([
    message('T', Buffer.concat([int16(columns.length), ...columns.map(field)])),
    ...values.map(data),
    message('C', cstring(`SELECT ${values.length}`)),
    ready(),
  ]);
}

/** A directory of stand-ins for pg_dump, psql and pg_restore that only tell their version, as SCIOPS_PG_BIN_DIR. */
function toolsOfVersion(version: string): string {
  const dir = path.join(tempDir('pg-version-tools'), 'bin');
  mkdirSync(dir);
  for (const tool of ['pg_dump', 'psql', 'pg_restore']) {
    writeFileSync(path.join(dir, tool), `#!/bin/sh\necho '${tool} (PostgreSQL) ${version}'\n`);
    chmodSync(path.join(dir, tool), 0o755);
  }
  return dir;
}

const noS3 = (): S3Client => {
  throw new Error('no S3 here');
};
const activities = createPgBackup(noS3);
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn);
const rejection = <T>(promise: Promise<T>) =>
  promise.then(
    () => {
      throw new Error('it succeeded');
    },
    (err: Error & { type?: string; nonRetryable?: boolean }) => err,
  );

/** The activities a workflow scheduled, in order, and the child workflows it started (target locks). */
async function scheduled(handle: WorkflowHandle): Promise<{ activities: string[]; children: number }> {
  const { events } = await handle.fetchHistory();
  return {
    activities: (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []),
    children: (events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length,
  };
}

const suffix = Date.now().toString(36);
const dir = tempDir('pg-version-check');
const destination = { kind: 'local' as const, dir };
const service = `sciops-pgversion-${suffix}`;
const fake = new FakeNewerServer();
const t = useTestbed({
  databases: ['pgversion', 'pgversion_into'],
  before: async (t) => {
    await fake.start();
    const real = t.database('pgversion');
    await real.pool.query("create table samples (id int primary key, name text); insert into samples values (1, 'one'), (2, 'two')");
    process.env.SCIOPS_TEST_PGV_FAKE = fake.url();
    process.env.SCIOPS_TEST_PGV_REAL = real.url;
    await createSleepingService(t.docker, service, 1);
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'] }],
  after: async (t) => {
    await removeService(t.docker, service);
    await fake.stop();
  },
});
const { docker } = t;
const real = () => t.database('pgversion');

const serviceVersion = async () => (await docker.getService(service).inspect()).Version.Index as number;
const start = (type: string, input: unknown) =>
  t.client.workflow.start(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] });

afterEach(() => {
  delete process.env.SCIOPS_PG_BIN_DIR;
});

describe('the fake server', () => {
  it('is refused by the real pg_dump 15 as a real PostgreSQL 99 would be: server version mismatch', async () => {
    const before = fake.sessions.length;
    const err = await rejection(promisify(execFile)('pg_dump', ['--schema-only', '--no-password', `--dbname=${fake.url()}`]));
    expect((err as Error & { stderr?: string }).stderr).toMatch(/server version: 99\.0; pg_dump version: 15\.\d+/);
    expect((err as Error & { stderr?: string }).stderr).toContain('aborting because of server version mismatch');
    expect(fake.sessions.length).toBe(before + 1);
  });
});

describe('a backup of a server newer than pg_dump', () => {
  it('fails before any side effect, naming the target, both versions and the fix', async () => {
    const name = `pgv-backup-${suffix}`;
    const replicasAt = await serviceVersion();
    const sessions = fake.sessions.length;
    const spec = {
      name,
      targets: [{ kind: 'postgres', name: 'app', urlEnv: 'SCIOPS_TEST_PGV_FAKE', mode: 'full' }],
      destination,
      stopServices: [service],
      verify: true,
    };
    const handle = await start(WorkflowType.backup, spec);
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(Failure.configInvalid);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('target app: pg_dump 15 (pg_dump (PostgreSQL) 15.');
    expect(failure.message).toContain('PostgreSQL 99 (server_version_num 990000)');
    expect(failure.message).toContain(FIX);
    expect(failure.message).toContain('service mode');
    expect(failure.message).toContain('nothing was changed');
    // Nothing changed: no activity but the check, no lock taken, no run in the store, the service never paused.
    expect(await scheduled(handle)).toEqual({ activities: ['checkPostgresClient'], children: 0 });
    expect(existsSync(path.join(dir, name))).toBe(false);
    expect(await serviceVersion()).toBe(replicasAt);
    // The check read the version once, on one connection, and nothing else reached the server.
    expect(fake.sessions.length).toBe(sessions + 1);
    expect(fake.traffic(sessions)).toEqual([]);
  });
});

describe('a restore into a server newer than pg_dump', () => {
  it('fails before any side effect: no safety backup, no service paused, nothing sent but the version query', async () => {
    const name = `pgv-restore-${suffix}`;
    const spec = {
      name,
      targets: [{ kind: 'postgres', name: 'app', urlEnv: 'SCIOPS_TEST_PGV_REAL' }],
      destination,
      stopServices: [service],
    };
    const report = (await (await start(WorkflowType.backup, spec)).result()) as BackupReport;
    // The same target, now behind a newer server (the URL the db worker reads is the fake's).
    process.env.SCIOPS_TEST_PGV_REAL = fake.url();
    try {
      const replicasAt = await serviceVersion();
      const sessions = fake.sessions.length;
      const handle = await start(WorkflowType.restore, { destination, backup: name, run: report.run, force: true });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(Failure.configInvalid);
      expect(failure.message).toContain(FIX);
      expect(await scheduled(handle)).toEqual({ activities: ['readManifest', 'checkPostgresClient'], children: 0 });
      expect(readdirSync(path.join(dir, name))).toEqual([report.run]);
      expect(await serviceVersion()).toBe(replicasAt);
      expect(fake.sessions.length).toBe(sessions + 1);
      expect(fake.traffic(sessions)).toEqual([]);
    } finally {
      process.env.SCIOPS_TEST_PGV_REAL = real().url;
    }
    expect((await real().pool.query('select count(*)::int as n from samples')).rows[0]?.n).toBe(2);
  });
});

describe('each activity on its own', () => {
  const target = { kind: 'postgres' as const, name: 'app', urlEnv: 'SCIOPS_TEST_PGV_FAKE', mode: 'full' as const };
  const dump: DumpRecord = {
    target: 'app',
    kind: 'postgres',
    file: 'app.sql.gz',
    bytes: 20,
    sha256: '0'.repeat(64),
    tool: 'pg_dump (PostgreSQL) 15.18',
    server: '15.18',
    tables: {},
  };
  const stored = { destination, key: 'activities/app.sql.gz', expected: { bytes: dump.bytes, sha256: dump.sha256 } };

  it('dump, verification and restore refuse a newer server before writing, creating or dropping anything', async () => {
    const sessions = fake.sessions.length;
    const refusals = await Promise.all([
      rejection(inActivity(() => activities.dumpPostgres({ target, destination, key: 'activities/app.sql.gz' }))),
      rejection(inActivity(() => activities.verifyPostgresDump({ target, ...stored }))),
      rejection(inActivity(() => activities.restorePostgres({ urlEnv: target.urlEnv, mode: 'full', ...stored }))),
    ]);
    for (const err of refusals) {
      expect(err.type).toBe(Failure.configInvalid);
      expect(err.nonRetryable).toBe(true);
      expect(err.message).toContain(FIX);
    }
    expect(refusals[2]?.message).toContain('target in SCIOPS_TEST_PGV_FAKE: pg_dump 15');
    expect(existsSync(path.join(dir, 'activities'))).toBe(false);
    expect(fake.sessions.length).toBe(sessions + 3);
    expect(fake.traffic(sessions)).toEqual([]);
  });

  it("takes SCIOPS_PG_BIN_DIR's tools instead of PATH's: a client as new as the server passes the check", async () => {
    process.env.SCIOPS_PG_BIN_DIR = toolsOfVersion('99.1');
    const versions = await inActivity(() => activities.checkPostgresClient({ target, restores: true }));
    expect(versions).toEqual({ pgDump: 'pg_dump (PostgreSQL) 99.1', psql: 'psql (PostgreSQL) 99.1', server: '990000' });
  });

  it('refuses a SCIOPS_PG_BIN_DIR that is relative, missing, or lacks a tool, saying which', async () => {
    const empty = tempDir('pg-version-empty');
    const partial = toolsOfVersion('17.6');
    const partialDir = path.dirname(partial);
    writeFileSync(path.join(partialDir, 'not-a-dir'), '');
    const cases: Array<[string, string]> = [
      ['usr/lib/postgresql/17/bin', 'usr/lib/postgresql/17/bin is not an absolute path'],
      ['/nonexistent/sciops/bin', '/nonexistent/sciops/bin does not exist on the db worker'],
      [path.join(partialDir, 'not-a-dir'), 'is not a directory'],
      [empty, `${empty} has no executable pg_dump, psql, pg_restore`],
    ];
    for (const [value, expected] of cases) {
      process.env.SCIOPS_PG_BIN_DIR = value;
      const err = await rejection(inActivity(() => activities.checkPostgresClient({ target, restores: false })));
      expect(err.type, value).toBe(Failure.configInvalid);
      expect(err.message, value).toContain(`SCIOPS_PG_BIN_DIR: `);
      expect(err.message, value).toContain(expected);
    }
  });
});

describe('the doctor', () => {
  it("reports the db worker's client tools and flags ones older than DATABASE_URL's server, with the fix", async () => {
    const url = t.bed.databaseUrl;
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      const health = createServerHealth(pool, url);
      const path_ = await health.checkDatabase();
      expect(Object.fromEntries(path_.facts)['client tools']).toBe('PATH');
      expect(Object.fromEntries(path_.facts).pg_dump).toMatch(/^pg_dump \(PostgreSQL\) 15\./);
      expect(Object.fromEntries(path_.facts).psql).toMatch(/^psql \(PostgreSQL\) 15\./);
      expect(Object.fromEntries(path_.facts).pg_restore).toMatch(/^pg_restore \(PostgreSQL\) 15\./);

      const old = toolsOfVersion('14.19');
      process.env.SCIOPS_PG_BIN_DIR = old;
      const mismatch = await health.checkDatabase();
      expect(mismatch.status).toBe('warn');
      expect(Object.fromEntries(mismatch.facts)['client tools']).toBe(`SCIOPS_PG_BIN_DIR=${old}`);
      expect(Object.fromEntries(mismatch.facts).pg_dump).toBe('pg_dump (PostgreSQL) 14.19');
      expect(mismatch.fix).toContain('pg_dump 14 (pg_dump (PostgreSQL) 14.19) on the db worker is older than the server, PostgreSQL 15');
      expect(mismatch.fix).toContain('use a newer client via SCIOPS_PG_BIN_DIR (a directory with pg_dump and psql of major ≥ 15)');

      process.env.SCIOPS_PG_BIN_DIR = '/nonexistent/sciops/bin';
      const broken = await health.checkDatabase();
      expect(broken.status).toBe('warn');
      expect(broken.fix).toContain('SCIOPS_PG_BIN_DIR: /nonexistent/sciops/bin does not exist on the db worker');
    } finally {
      await pool.end();
    }
  });
});

describe('a dump written by a newer pg_dump', () => {
  it("restores and verifies into an older server: pg_dump 17's SET transaction_timeout is left out for it", async () => {
    const into = t.database('pgversion_into');
    process.env.SCIOPS_TEST_PGV_INTO = into.url;
    const target = { kind: 'postgres' as const, name: 'app', urlEnv: 'SCIOPS_TEST_PGV_REAL', mode: 'full' as const };
    const key = 'newer/app.sql.gz';
    await inActivity(() => activities.dumpPostgres({ target, destination, key: 'newer/app-15.sql.gz' }));
    // The header pg_dump 17 writes, whatever server it dumps (the workers image's client is 17).
    const sql = gunzipSync(readFileSync(path.join(dir, 'newer/app-15.sql.gz'))).toString();
    const newer = sql.replace('SET idle_in_transaction_session_timeout = 0;\n', '$&SET transaction_timeout = 0;\n');
    expect(newer).not.toBe(sql);
    // What psql alone makes of it on this server: the whole restore refused.
    const raw = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', into.url], { input: newer, encoding: 'utf8' });
    expect(raw.stderr).toContain('unrecognized configuration parameter "transaction_timeout"');
    const bytes = gzipSync(newer);
    writeFileSync(path.join(dir, key), bytes);
    const stored = { destination, key, expected: { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
    const verified = await inActivity(() => activities.verifyPostgresDump({ target, ...stored }));
    expect(verified).toEqual({ 'public.samples': 2 });
    const restored = await inActivity(() => activities.restorePostgres({ urlEnv: 'SCIOPS_TEST_PGV_INTO', mode: 'full', ...stored }));
    expect(restored).toEqual({ 'public.samples': 2 });
    into.pool.on('error', () => undefined); // the restore dropped and re-created the database under it
    const { rows } = await into.pool.query('select name from samples order by id');
    expect(rows.map((r) => r.name)).toEqual(['one', 'two']);
  });
});
