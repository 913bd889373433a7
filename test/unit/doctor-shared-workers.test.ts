import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { identityHost, POLLER_WINDOW_MS, pollingHosts } from '../../activities/docker/engine-health';
import { readSpecFile } from '../../clients/spec-file';
import { backupSpecSchema } from '../../common/backup';
import { readConfig } from '../../common/config';
import { ConfigError } from '../../common/errors';
import { parseInput } from '../../common/validate';

const ROOT = path.resolve(__dirname, '../..');

describe('pollingHosts', () => {
  const now = 1_800_000_000_000;

  it('groups recent pollers by the host of their identity (pid@host)', () => {
    expect(
      pollingHosts(
        [
          { identity: '7@mgr-1', lastAccessMs: now - 1000 },
          { identity: '9@mgr-1', lastAccessMs: now - 50_000 },
          { identity: '7@mgr-2', lastAccessMs: now },
          { identity: 'custom-name' },
        ],
        now,
      ),
    ).toEqual([
      ['custom-name', ['custom-name']],
      ['mgr-1', ['7@mgr-1', '9@mgr-1']],
      ['mgr-2', ['7@mgr-2']],
    ]);
  });

  it('leaves out a worker that has not polled within the window (a stopped one stays listed for minutes)', () => {
    const pollers = [
      { identity: '7@mgr-1', lastAccessMs: now - 61_000 }, // idle, its long poll renewed every minute
      { identity: '8@old-container', lastAccessMs: now - POLLER_WINDOW_MS - 1 },
    ];
    expect(pollingHosts(pollers, now)).toEqual([['mgr-1', ['7@mgr-1']]]);
  });

  it('takes the host after the last @', () => {
    expect(identityHost('12@sciops-docker')).toBe('sciops-docker');
    expect(identityHost('a@b@host')).toBe('host');
    expect(identityHost('no-at')).toBe('no-at');
  });
});

describe('SCIOPS_BACKUP_DIR', () => {
  it('is an absolute directory, without a trailing slash, or unset', () => {
    expect(readConfig({}).backupDir).toBeUndefined();
    expect(readConfig({ SCIOPS_BACKUP_DIR: ' ' }).backupDir).toBeUndefined();
    expect(readConfig({ SCIOPS_BACKUP_DIR: '/var/lib/sciops/backups/' }).backupDir).toBe('/var/lib/sciops/backups');
    expect(() => readConfig({ SCIOPS_BACKUP_DIR: 'backups' })).toThrow(ConfigError);
    expect(() => readConfig({ SCIOPS_BACKUP_DIR: 'backups' })).toThrow(/SCIOPS_BACKUP_DIR.*not an absolute directory/);
  });
});

describe('local backups in the compose topology', () => {
  interface Service {
    environment?: Record<string, string>;
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
    user?: string;
    entrypoint?: string[];
  }
  const { services } = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const backupMount = (name: string) => services[name]?.volumes?.find((v) => v.startsWith('sciops-backups:'));

  it('mounts one backup volume at the same path on the db and the docker worker, which is their SCIOPS_BACKUP_DIR', () => {
    const dir = '/var/lib/sciops/backups';
    for (const name of ['sciops-db', 'sciops-docker']) {
      expect(backupMount(name), name).toBe(`sciops-backups:${dir}`);
      expect(services[name]?.environment?.SCIOPS_BACKUP_DIR, name).toBe(dir);
    }
  });

  it("hands the volume to the workers' user before the db worker writes to it", () => {
    expect(services['sciops-db']?.depends_on?.['sciops-backups-owner']?.condition).toBe('service_completed_successfully');
    expect(services['sciops-backups-owner']?.entrypoint).toEqual(['chown', '10001:10001', '/var/lib/sciops/backups']);
    expect(backupMount('sciops-backups-owner')).toBe('sciops-backups:/var/lib/sciops/backups');
  });

  it('has the example local backup spec write into that directory', () => {
    const spec = parseInput(backupSpecSchema, readSpecFile(path.join(ROOT, 'examples/backups/omics-nightly.yaml')), 'omics-nightly.yaml');
    expect(spec.destination).toEqual({ kind: 'local', dir: services['sciops-db']?.environment?.SCIOPS_BACKUP_DIR });
  });
});
