import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { backupStore } from '../../activities/files/backup-store';
import { destinationSchema } from '../../common/backup';
import { tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';

const t = useTestbed();

/** A dump is the database: the stores keep it from everyone but the worker's user and the key's holders. */
describe('backup store', () => {
  it('writes local runs readable by the worker only: files 0600, the directories it makes 0700', async () => {
    const dir = tempDir('store-modes');
    const store = backupStore({ kind: 'local', dir }, () => {
      throw new Error('no S3 here');
    });
    await store.write('omics/20261201T030405.678Z-0a1b2c3d/omics.sql.gz', Readable.from([Buffer.from('COPY ...')]));
    const run = path.join(dir, 'omics', '20261201T030405.678Z-0a1b2c3d');
    expect(statSync(path.join(dir, 'omics')).mode & 0o777).toBe(0o700);
    expect(statSync(run).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(run, 'omics.sql.gz')).mode & 0o777).toBe(0o600);
    expect(readdirSync(run)).toEqual(['omics.sql.gz']);
  });

  it('reads and writes only keys inside the store: a ../ key is refused before any file is touched (review p3)', async () => {
    const dir = tempDir('store-keys');
    const outside = path.join(path.dirname(dir), `outside-${path.basename(dir)}`);
    writeFileSync(outside, 'not a backup');
    const store = backupStore({ kind: 'local', dir }, () => {
      throw new Error('no S3 here');
    });
    const leaving = `omics/run/../../../${path.basename(outside)}`;
    await expect(async () => store.read(leaving)).rejects.toThrow('not a key inside the backup store');
    await expect(async () => store.readText(leaving)).rejects.toThrow('not a key inside the backup store');
    await expect(async () => store.write(leaving, Readable.from([Buffer.from('x')]))).rejects.toThrow('not a key inside the backup store');
    await expect(async () => store.removePrefix('../')).rejects.toThrow('not a key inside the backup store');
    expect(readFileSync(outside, 'utf8')).toBe('not a backup');
  });

  it('encrypts S3 objects with the destination KMS key (SSE-KMS)', async () => {
    const s3 = new S3Client({ region: t.bed.awsRegion, endpoint: t.bed.awsEndpoint, forcePathStyle: true });
    const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/6f1c0d2e-backups';
    const bucket = uniqueId('sse').toLowerCase();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const destination = destinationSchema.parse({ kind: 's3', bucket, kmsKeyId });
    const store = backupStore(destination, () => s3);
    await store.write('omics/run/omics.sql.gz', Readable.from([Buffer.from('COPY ...')]));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'omics/run/omics.sql.gz' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(kmsKeyId);
    expect(await store.readText('omics/run/omics.sql.gz')).toBe('COPY ...');
  });
});
