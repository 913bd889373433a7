import { z } from 'zod';
import { NODE_NAME } from './queues';

/** A MongoDB database name: none of / \ . space " $ * < > : | ?, at most 63 characters. */
const MONGO_DATABASE = /^[^/\\. "$*<>:|?]{1,63}$/;
/** MongoDB's own databases, which a restore never writes to. */
export const RESERVED_MONGO_DATABASES = ['admin', 'local', 'config'];
/** `<database>.*`, a whole database as mongorestore's --nsFrom/--nsTo name it. */
export const databasePattern = (example: string) =>
  z.string().refine((p) => p.endsWith('.*') && MONGO_DATABASE.test(p.slice(0, -2)), { message: `a database pattern such as ${example}` });

/** Backup, target and schedule names. */
export const NAME = /^[a-z0-9][a-z0-9_-]{0,47}$/;
export const NAME_RULE = 'lower-case letters, digits, _ and -, at most 48';
export const nameField = (what: string) => z.string().regex(NAME, `a ${what} name: ${NAME_RULE}`);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable');

/** A PostgreSQL role or database name sciops passes as `--username=`/`--dbname=`: no quote, no leading dash. */
const pgName = (what: string) =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_$.-]{0,62}$/, `a PostgreSQL ${what} name: a letter or _ first, then letters, digits, _ $ . -`);

const postgresTarget = z
  .strictObject({
    kind: z.literal('postgres'),
    name: nameField('target'),
    urlEnv: envName
      .default('DATABASE_URL')
      .describe("the variable, on the db worker, holding the database's URL (never the URL itself); not used with service"),
    mode: z
      .enum(['data-only', 'full'])
      .default('data-only')
      .describe('data-only (the schema comes from the platform migrations, as `pg_dump --data-only`), or full (schema and data)'),
    service: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a swarm service name')
      .optional()
      .describe("the swarm service running the database: dumped and restored inside its task (docker exec), with the server's own tools"),
    database: pgName('database').optional().describe('with service: the database to dump and restore'),
    user: pgName('role').optional().describe("with service: the role pg_dump and psql connect as (over the task's local socket)"),
  })
  .superRefine((t, ctx) => {
    if (t.service === undefined) {
      for (const key of ['database', 'user'] as const)
        if (t[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} goes with service; a URL names its own` });
      return;
    }
    for (const key of ['database', 'user'] as const)
      if (t[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `required with service: the ${key} inside the service's server` });
  });

const volumeTarget = z.strictObject({
  kind: z.literal('volume'),
  name: nameField('target'),
  volume: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]+$/, 'a Docker volume name: at least 2 characters, letters, digits, _ . and -'),
  node: z.string().regex(NODE_NAME, 'a node hostname').optional().describe("the node whose engine holds it (default: the docker queue's)"),
  image: z.string().min(1).default('busybox:1.36').describe('an image with sh, tar and find, run beside the volume to read or fill it'),
});

const mongoTarget = z.strictObject({
  kind: z.literal('mongo'),
  name: nameField('target'),
  urlEnv: envName.default('MONGO_URL').describe('the variable, on the db worker, holding the MongoDB URL (never the URL itself)'),
  database: z
    .string()
    .regex(MONGO_DATABASE, 'a MongoDB database name')
    .refine((d) => !RESERVED_MONGO_DATABASES.includes(d.toLowerCase()), {
      message: `not ${RESERVED_MONGO_DATABASES.join(', ')}: MongoDB's own databases are not the platform's data`,
    }),
});

export const backupTargetSchema = z.discriminatedUnion('kind', [postgresTarget, mongoTarget, volumeTarget]);

export const destinationSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('local'),
    dir: z
      .string()
      .regex(/^\/\S*$/, 'an absolute directory, the same on every worker that backs up or restores (one host, or a shared file system)')
      .refine((d) => d.replace(/\/+$/, '') !== '', { message: 'not / itself: a directory of its own for the backups' })
      .refine((d) => !d.split('/').includes('..'), { message: 'a path without .. (write it as the directory it is)' }),
  }),
  z.strictObject({
    kind: z.literal('s3'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
    prefix: z
      .string()
      .regex(/^([A-Za-z0-9_.-]+\/)*$/, 'empty, or path segments each ending in /')
      .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), { message: 'segments other than . and ..' })
      .default(''),
    kmsKeyId: z
      .string()
      .regex(/^[A-Za-z0-9:/_+=.@-]{1,2048}$/, 'a KMS key id, ARN or alias (alias/NAME)')
      .optional()
      .describe("encrypt every object with this KMS key (SSE-KMS); without it, the bucket's default encryption applies"),
  }),
]);

export const retentionSchema = z
  .strictObject({
    keepLast: z.number().int().min(1).default(7).describe('the newest N complete backups'),
    daily: z.number().int().min(0).default(7).describe('the newest backup of each of the last N days that have one'),
    weekly: z.number().int().min(0).default(4).describe('the newest of each of the last N ISO weeks that have one'),
    monthly: z.number().int().min(0).default(6).describe('the newest of each of the last N months that have one'),
  })
  .default({ keepLast: 7, daily: 7, weekly: 4, monthly: 6 });

/** A backup: what to dump, where to, which services to stop meanwhile, and what to keep. */
export const backupSpecSchema = z
  .strictObject({
    name: nameField('backup'),
    targets: z.array(backupTargetSchema).min(1, 'at least one target'),
    destination: destinationSchema,
    stopServices: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a swarm service name'))
      .default([])
      .describe('scaled to 0 during the backup and back to their replicas after, whatever happens'),
    retention: retentionSchema,
    verify: z.boolean().default(false).describe('restore each dump into a scratch database / volume and compare with the manifest'),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.targets.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `"${t.name}" is defined twice` });
      seen.add(t.name);
      if (t.kind === 'postgres' && t.service !== undefined && spec.stopServices.includes(t.service)) {
        const message = `service ${t.service} runs the database this target dumps inside it: keep it out of stopServices`;
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'service'], message });
      }
    });
  });

export type BackupSpec = z.infer<typeof backupSpecSchema>;
export type BackupTarget = z.infer<typeof backupTargetSchema>;
export type PostgresTarget = z.infer<typeof postgresTarget>;
/** A PostgreSQL target inside a swarm service (service mode). */
export type PostgresServiceTarget = PostgresTarget & { service: string; database: string; user: string };
export type VolumeTarget = z.infer<typeof volumeTarget>;
export type MongoTarget = z.infer<typeof mongoTarget>;
export type Destination = z.infer<typeof destinationSchema>;
export type Retention = z.infer<typeof retentionSchema>;

/**
 * A backup run's id: its UTC start to the millisecond plus a random suffix, `20261122T030000.123Z-1a2b3c4d`;
 * sorts as it happened, and two runs started in the same millisecond still get folders of their own. The
 * suffix (8 hex digits) comes from the caller: a workflow's deterministic random. Pure.
 */
export function runId(at: Date, suffix: string): string {
  if (!/^[0-9a-f]{8}$/.test(suffix)) throw new Error(`a run id suffix is 8 hex digits, not "${suffix}"`);
  return `${at.toISOString().replace(/[-:]/g, '')}-${suffix}`;
}

/** Run ids: this version's, and the second-resolution ids of earlier ones (`20261122T030000Z`). */
export const RUN_ID = /^\d{8}T\d{6}(\.\d{3})?Z(-[0-9a-f]{8})?$/;

/** The instant a run id names. Pure. */
export function runTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{3}))?Z(?:-[0-9a-f]{8})?$/.exec(id);
  if (m === null) throw new Error(`not a backup run id: ${id}`);
  const [year, month, day, hour, minute, second, ms] = m.slice(1).map((part) => Number(part ?? 0));
  return new Date(Date.UTC(year as number, (month as number) - 1, day, hour, minute, second, ms));
}

/**
 * The longest a backup workflow may take once it holds its targets (it fails itself past this). A run
 * folder without a manifest that is younger than this may still be being written by another run, so only
 * older ones are pruned as leftovers. Pure.
 */
export const BACKUP_MAX_HOURS = 7 * 24;

/** The incomplete runs that are leftovers (older than any live backup could be), never the current one. Pure. */
export function leftoverRuns(incomplete: readonly string[], current: string, now: Date): string[] {
  const limit = now.getTime() - BACKUP_MAX_HOURS * 3_600_000;
  return incomplete.filter((run) => run !== current && runTime(run).getTime() < limit);
}

/** Where a run's files live, relative to the destination: `<backup>/<run>/`. Pure. */
export function runPath(backup: string, run: string): string {
  return `${backup}/${run}/`;
}

/**
 * A target's dump file in its run: carries the target and the run's UTC time. Pure. A Mongo dump is a
 * `mongodump --archive --gzip` archive (runs of earlier versions recorded `.ejson.gz` files, restored by name).
 */
export function dumpFileName(target: BackupTarget, run: string): string {
  const extension = { postgres: 'sql.gz', mongo: 'archive.gz', volume: 'tar.gz' }[target.kind];
  return `${target.name}-${run}.${extension}`;
}

/** The file name of a key in a store (`<backup>/<run>/<file>`). Pure. */
export function fileOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** What one target's dump holds: written into the manifest. */
export interface DumpRecord {
  readonly target: string;
  readonly kind: BackupTarget['kind'];
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  /** e.g. `pg_dump (PostgreSQL) 15.18`, `GNU tar 1.34`. */
  readonly tool: string;
  readonly server?: string;
  /** Postgres: rows per table (`schema.table`), counted in the dump's own snapshot. */
  readonly tables?: Readonly<Record<string, number>>;
  /** Volumes: regular files in the archive. */
  readonly files?: number;
  /** MongoDB: documents per collection. */
  readonly collections?: Readonly<Record<string, number>>;
  /**
   * MongoDB: the database dumped, whose collections a restore takes from the archive (runs of earlier
   * versions lack it: their archive's only database is restored).
   */
  readonly database?: string;
}

/** What `backup` returns. */
export interface BackupReport {
  readonly backup: string;
  readonly run: string;
  readonly location: string;
  readonly dumps: readonly DumpRecord[];
  readonly pruned: readonly string[];
  readonly verified: boolean;
}

/** Where a restored copy differs from what the manifest recorded: one line per table or count. Pure. */
export function differences(
  dump: DumpRecord,
  found: { tables?: Readonly<Record<string, number>>; collections?: Readonly<Record<string, number>>; files?: number },
): string[] {
  if (dump.kind === 'volume') {
    return found.files === dump.files ? [] : [`${dump.target}: ${found.files} files, the manifest says ${dump.files}`];
  }
  const mongo = dump.kind === 'mongo';
  const [what, unit] = mongo ? ['collection', 'documents'] : ['table', 'rows'];
  const expected = (mongo ? dump.collections : dump.tables) ?? {};
  const got = (mongo ? found.collections : found.tables) ?? {};
  return [...new Set([...Object.keys(expected), ...Object.keys(got)])]
    .sort()
    .filter((t) => expected[t] !== got[t])
    .map((t) => `${dump.target}: ${what} ${t} has ${got[t] ?? 'no'} ${unit}, the manifest says ${expected[t] ?? 'none'}`);
}

/** How a run is named on the command line: `<dir>/<backup>/<run>` or `s3://<bucket>/<prefix><backup>/<run>`. Pure. */
export function backupLocation(destination: Destination, backup: string, run: string): string {
  const base =
    destination.kind === 'local'
      ? destination.dir.replace(/\/$/, '')
      : `s3://${destination.bucket}/${destination.prefix.replace(/\/$/, '')}`;
  return `${base.replace(/\/$/, '')}/${backup}/${run}`;
}

/** The destination, backup and run a location names (see backupLocation); throws naming the expected form. Pure. */
export function parseBackupLocation(text: string): { destination: Destination; backup: string; run: string } {
  const parts = text.replace(/\/+$/, '').split('/');
  const run = parts.pop() ?? '';
  const backup = parts.pop() ?? '';
  const rest = parts.join('/');
  const form = 'give <dir>/<backup>/<run> or s3://<bucket>/<prefix><backup>/<run>, as `sciops backup list` prints it';
  if (!RUN_ID.test(run) || !NAME.test(backup)) throw new Error(`"${text}" does not end in <backup>/<run id>: ${form}`);
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(rest);
  const named: Destination | undefined =
    s3 !== null
      ? { kind: 's3', bucket: s3[1] as string, prefix: s3[2] === '' ? '' : `${s3[2]}/` }
      : rest.startsWith('/')
        ? { kind: 'local', dir: rest }
        : undefined;
  if (named === undefined) throw new Error(`"${text}" is neither an absolute directory nor an s3:// URL: ${form}`);
  // The same rules as a destination in a spec: no `..` into another directory, no bucket that cannot be one.
  const checked = destinationSchema.safeParse(named);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new Error(`"${text}": ${issue?.path.join('.') ?? 'destination'}: ${issue?.message ?? 'not a destination'}`);
  }
  return { destination: checked.data, backup, run };
}
