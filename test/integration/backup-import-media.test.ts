import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BSON, type Db, MongoClient } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../common/backup-import';
import type { Manifest } from '../../common/backup-manifest';
import { Failure } from '../../common/failures';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { WorkflowType } from '../../common/workflow-types';
import { demuxedText } from '../support/docker-streams';
import { tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';

// The media volume's tar as tools/export_media.sh of the seed makes it (`cd /from; tar czvf /to/media-backup_<time>.tar.gz .`
// in a helper container: gzip, entries ./ and ./path), and a real `mongodump --archive --gzip` (mongo-tools 100.11.0
// against the testbed's FerretDB), each imported as a run, restored by the restore workflow, compared with the source.
const exec = promisify(execFile);
const IMAGE = 'local/busybox:1';
const suffix = Date.now().toString(36);
const dir = tempDir('import-media');
const inbox = path.join(dir, 'import');
const destination = { kind: 'local' as const, dir };
const media = `sciops-import-media-${suffix}`;
const restoredMedia = `sciops-import-restored-${suffix}`;
const sourceDb = `multiomics_${suffix}`;
const targetDb = `omics_import_${suffix}`;
let mongo: MongoClient;
const t = useTestbed({
  before: async (t) => {
    const tools = process.env.SCIOPS_TEST_MONGO_TOOLS;
    if (tools === undefined || !existsSync(path.join(tools, 'mongodump'))) {
      throw new Error(
        'SCIOPS_TEST_MONGO_TOOLS names no directory with mongodump: run scripts/mongo-tools.sh (bash scripts/testbed.sh does)',
      );
    }
    if (process.env.SCIOPS_TEST_MONGO_URL === undefined) throw new Error('SCIOPS_TEST_MONGO_URL is not set: run bash scripts/testbed.sh');
    mkdirSync(inbox, { recursive: true, mode: 0o777 });
    await t.docker.createVolume({ Name: media });
    await t.docker.createVolume({ Name: restoredMedia });
    await inVolume(
      media,
      'mkdir -p /v/uploads/2024 && head -c 300000 /dev/urandom > /v/uploads/2024/matrix.csv && echo hello > /v/readme.txt && ln -s readme.txt /v/link',
    );
    mongo = new MongoClient(process.env.SCIOPS_TEST_MONGO_URL, { serverSelectionTimeoutMS: 10_000 });
    await mongo.connect();
    const db = mongo.db(sourceDb);
    await db
      .collection('experiments')
      .insertMany(Array.from({ length: 1500 }, (_, i) => ({ i, name: `experiment ${i}`, tags: ['a', `t${i % 7}`] })));
    await db
      .collection('results')
      .insertMany(Array.from({ length: 300 }, (_, i) => ({ experiment: i, score: i / 3, at: new Date(1_700_000_000_000 + i) })));
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'], env: { SCIOPS_BACKUP_DIR: dir } }],
  after: async (t) => {
    for (const name of [sourceDb, targetDb]) await mongo?.db(name).dropDatabase();
    await mongo?.close();
    for (const v of [media, restoredMedia])
      await t.docker
        .getVolume(v)
        .remove({ force: true })
        .catch(() => undefined);
  },
});
const { docker } = t;

const backup = `media-${suffix}`;
const spec = {
  name: backup,
  targets: [
    { kind: 'volume', name: 'media', volume: restoredMedia, image: IMAGE },
    { kind: 'mongo', name: 'meta', urlEnv: 'SCIOPS_TEST_MONGO_URL', database: targetDb },
  ],
  destination,
};

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;
const importFile = (target: string, kind: string, file: string) =>
  run<ImportReport>(WorkflowType.importBackup, { spec, target, kind, file });
const runsInStore = () => (existsSync(path.join(dir, backup)) ? readdirSync(path.join(dir, backup)).sort() : []);

/** Runs a command in a throwaway container with `volume` at /v (and the inbox at /to); returns its output. */
async function inVolume(volume: string, command: string): Promise<string> {
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['sh', '-c', command],
    HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/v' }], Binds: [`${inbox}:/to`] },
  });
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  const logs = (await container.logs({ stdout: true, stderr: true })) as Buffer;
  await container.remove({ force: true });
  if (StatusCode !== 0) throw new Error(`${command} exited ${StatusCode}: ${demuxedText(logs)}`);
  return demuxedText(logs);
}

const volumeDigest = (volume: string) => inVolume(volume, 'cd /v && find . -type f | sort | xargs sha256sum');

/** Every document of every collection, in canonical Extended JSON, sorted. */
async function contents(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    const docs = await db.collection(name).find({}).toArray();
    out[name] = docs.map((d) => BSON.EJSON.stringify(d, { relaxed: false })).sort();
  }
  return out;
}

describe('import of the media volume as export_media.sh exports it', () => {
  it('is imported, listed, restored into the volume and equal to the source file by file', async () => {
    // As tools/export_media.sh does (alpine there, busybox here: both tar czvf of `.`).
    await inVolume(media, 'cd /v; tar czvf /to/media-backup_2024-03-01_03-00-00.tar.gz .');
    const file = path.join(inbox, 'media-backup_2024-03-01_03-00-00.tar.gz');
    const report = await importFile('media', 'volume', file);
    expect(report.counts).toBe('2 files');
    expect(report.repaired).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(dir, backup, report.run, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.dumps).toEqual([
      expect.objectContaining({ target: 'media', kind: 'volume', files: 2, tool: 'imported (tar, format checked by sciops)' }),
    ]);
    const listed = await run<Array<{ run: string }>>(WorkflowType.listBackups, spec);
    expect(listed.map((r) => r.run)).toContain(report.run);

    const restored = await run<RestoreReport>(WorkflowType.restore, { destination, backup, run: report.run });
    expect(restored.restored).toEqual(['media']);
    expect(await volumeDigest(restoredMedia)).toBe(await volumeDigest(media));
    expect(await inVolume(restoredMedia, 'readlink /v/link')).toBe('readme.txt\n');
  });
});

describe('import of a mongodump --archive --gzip file', () => {
  it('is imported, listed, restored into the target database and equal to the source document by document', async () => {
    const file = path.join(inbox, 'multiomix_mongo_backup.txt.gz');
    const tools = process.env.SCIOPS_TEST_MONGO_TOOLS as string;
    await exec(path.join(tools, 'mongodump'), [
      `--uri=${process.env.SCIOPS_TEST_MONGO_URL}`,
      `--db=${sourceDb}`,
      '--gzip',
      `--archive=${file}`,
    ]);
    const report = await importFile('meta', 'mongo', file);
    expect(report.counts).toBe('1800 documents in 2 collections');
    const manifest = JSON.parse(readFileSync(path.join(dir, backup, report.run, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.dumps).toEqual([
      expect.objectContaining({
        target: 'meta',
        kind: 'mongo',
        collections: { experiments: 1500, results: 300 },
        tool: expect.stringMatching(/^imported \(mongodump 100\.11\.0.*, archive checked by sciops\)$/),
      }),
    ]);
    const restored = await run<RestoreReport>(WorkflowType.restore, { destination, backup, run: report.run });
    expect(restored.restored).toEqual(['meta']);
    expect(await contents(mongo.db(targetDb))).toEqual(await contents(mongo.db(sourceDb)));
  });
});

describe('import of a mongodump --archive file without --gzip', () => {
  it('is gzipped on the way in, and restores equal', async () => {
    const file = path.join(inbox, 'plain.archive');
    const tools = process.env.SCIOPS_TEST_MONGO_TOOLS as string;
    await exec(path.join(tools, 'mongodump'), [`--uri=${process.env.SCIOPS_TEST_MONGO_URL}`, `--db=${sourceDb}`, `--archive=${file}`]);
    const report = await importFile('meta', 'mongo', file);
    expect(report.repaired).toEqual(['gzipped']);
    const manifest = JSON.parse(readFileSync(path.join(dir, backup, report.run, 'manifest.json'), 'utf8')) as Manifest;
    const stored = readFileSync(path.join(dir, backup, report.run, manifest.dumps[0]?.file as string));
    expect([...stored.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    await mongo.db(targetDb).dropDatabase();
    await run<RestoreReport>(WorkflowType.restore, { destination, backup, run: report.run });
    expect(await contents(mongo.db(targetDb))).toEqual(await contents(mongo.db(sourceDb)));
  });
});

describe('a file that is not what it is said to be is refused, with nothing written', () => {
  let before: string[];
  beforeAll(() => {
    before = runsInStore();
  });
  const refused = async (target: string, kind: string, file: string, message: RegExp) => {
    const failure = await failureOf(run(WorkflowType.importBackup, { spec, target, kind, file }));
    expect(failure.message).toMatch(message);
    expect(runsInStore()).toEqual(before);
    expect(await inVolume(restoredMedia, 'ls /v | grep -c sciops-restore || true')).toBe('0\n');
  };

  it('a tar with ../ or absolute entries', async () => {
    const evil = path.join(inbox, 'evil.tar.gz');
    const absolute = path.join(inbox, 'absolute.tar.gz');
    const python = `import io, tarfile, sys
for name, entry in ((sys.argv[1], '../escape.txt'), (sys.argv[2], '/etc/cron.d/x')):
    with tarfile.open(name, 'w:gz') as t:
        for n in ('./ok.txt', entry):
            info = tarfile.TarInfo(n); data = b'x\\n'; info.size = len(data); t.addfile(info, io.BytesIO(data))`;
    await exec('python3', ['-c', python, evil, absolute]);
    await refused(
      'media',
      'volume',
      evil,
      /evil\.tar\.gz: not a tar archive to extract into a volume: entry "\.\.\/escape\.txt": a path with \.\./,
    );
    await refused('media', 'volume', absolute, /entry "\/etc\/cron\.d\/x": an absolute path/);
  });

  it('a text file, and a gzipped text file, said to be a tar', async () => {
    const text = path.join(inbox, 'readme.txt');
    writeFileSync(text, 'media files are in the uploads folder\n'.repeat(30));
    await refused('media', 'volume', text, /readme\.txt: not a tar archive .*the header at entry 1 does not check out/);
    await exec('bash', ['-c', `gzip -k -f '${text}'`]);
    await refused('media', 'volume', `${text}.gz`, /not a tar archive .*does not check out/);
  });

  it('a truncated tar.gz and a truncated archive.gz', async () => {
    const tar = readFileSync(path.join(inbox, 'media-backup_2024-03-01_03-00-00.tar.gz'));
    writeFileSync(path.join(inbox, 'cut.tar.gz'), tar.subarray(0, Math.floor(tar.length / 2)));
    await refused('media', 'volume', path.join(inbox, 'cut.tar.gz'), /cut\.tar\.gz: the gzip stream is truncated or corrupt/);
    const archive = readFileSync(path.join(inbox, 'multiomix_mongo_backup.txt.gz'));
    writeFileSync(path.join(inbox, 'cut.archive.gz'), archive.subarray(0, Math.floor(archive.length / 2)));
    await refused('meta', 'mongo', path.join(inbox, 'cut.archive.gz'), /cut\.archive\.gz: not a whole mongodump archive \(/);
  });

  it('the wrong kind: a tar given as a mongodump archive, an archive as a tar', async () => {
    const tar = path.join(inbox, 'media-backup_2024-03-01_03-00-00.tar.gz');
    await refused('meta', 'mongo', tar, /not a whole mongodump archive \(not a mongodump archive: /);
    await refused('media', 'volume', path.join(inbox, 'multiomix_mongo_backup.txt.gz'), /not a tar archive/);
    const failure = await failureOf(run(WorkflowType.importBackup, { spec, target: 'meta', kind: 'volume', file: tar }));
    expect(failure.type).toBe(Failure.invalidInput);
    expect(failure.message).toContain('kind: volume, but target meta of backup');
  });
});
