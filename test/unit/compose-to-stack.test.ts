import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadComposeStack } from '../../clients/compose-files';
import type { ComposeDeploy } from '../../common/compose/model';
import { restartPolicy } from '../../common/compose/to-stack';
import { serviceRequest } from '../../common/stack-resources';

const CORPUS = path.resolve(__dirname, '../../../shared/compose-corpus');
const FIXTURES = path.resolve(__dirname, '../fixtures/compose');
const multiomix = path.join(CORPUS, 'multiomix/docker-compose_dist.yml');

describe('composeToStack: a compose file as the stack the deploy workflow takes', () => {
  const { spec, ignored } = loadComposeStack('omics', { files: [multiomix] });
  const service = (name: string) => {
    const found = spec.services.find((s) => s.name === name);
    if (found === undefined) throw new Error(`no service ${name}`);
    return found;
  };
  const context = { volumes: spec.volumes, networks: spec.networks, secrets: {}, configs: {} };

  it("keeps Multiomix's external volumes under their own names, and puts services without networks on <stack>_default", () => {
    expect(spec.volumes).toHaveLength(7);
    expect(spec.volumes.every((v) => v.external)).toBe(true);
    expect(spec.volumes.find((v) => v.name === 'postgres_data')?.dockerName).toBe('multiomics_intermediate_postgres_data');
    expect(spec.networks).toEqual([expect.objectContaining({ name: 'default', driver: 'overlay', attachable: false, external: false })]);
    expect(service('redis').networks).toEqual([{ name: 'default', aliases: [] }]);
  });

  it('gives command and entrypoint their compose meaning: the db still runs through its image entrypoint', () => {
    const db = serviceRequest('omics', service('db'), context);
    expect(db.TaskTemplate.ContainerSpec).toMatchObject({ Args: ['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf'] });
    expect(db.TaskTemplate.ContainerSpec).not.toHaveProperty('Command');
    expect(db.EndpointSpec.Mode).toBe('dnsrr');
    expect(serviceRequest('omics', service('mongo'), context).TaskTemplate.ContainerSpec).toMatchObject({
      Args: ['--config', '/etc/mongo/mongod.conf'],
    });
  });

  it('renders numbers in the environment as docker does, sorted, and mounts binds and external volumes as docker does', () => {
    const worker = serviceRequest('omics', service('sync-datasets-worker'), context);
    expect(worker.TaskTemplate.ContainerSpec).toMatchObject({ Env: ['CONCURRENCY=1', 'QUEUE_NAME=sync_datasets'] });
    const nginx = serviceRequest('omics', service('nginx'), context).TaskTemplate.ContainerSpec.Mounts;
    expect(nginx).toContainEqual({ Type: 'bind', Source: path.join(CORPUS, 'multiomix/config/nginx/conf.d'), Target: '/etc/nginx/conf.d' });
    expect(nginx).toContainEqual({ Type: 'volume', Source: 'multiomics_intermediate_media_data', Target: '/media', VolumeOptions: {} });
  });

  it('falls back to restart: always for the restart policy, and reports the keys swarm ignores', () => {
    expect(service('db').restartPolicy).toEqual({ condition: 'any' });
    expect(ignored.map((k) => k.key)).toEqual(expect.arrayContaining(['restart', 'depends_on']));
    expect(ignored.find((k) => k.key === 'restart' && k.service === 'db')?.line).toBe(5);
  });

  it.each([
    ['always', { condition: 'any' }],
    ['unless-stopped', { condition: 'any' }],
    ['on-failure:3', { condition: 'on-failure', maxAttempts: 3 }],
    ['on-failure', { condition: 'on-failure' }],
    ['no', undefined],
  ])('restart: %s is the restart policy %j', (restart, policy) => {
    expect(restartPolicy({ placement: {} } as ComposeDeploy, restart)).toEqual(policy);
  });

  it('the every-key fixture converts into a valid stack, its externals kept as such', () => {
    const loaded = loadComposeStack('every', { files: [path.join(FIXTURES, 'every-key/docker-compose.yml')] });
    expect(loaded.spec.services.map((s) => s.name)).toEqual(['web', 'cache']);
    expect(loaded.spec.secrets.filter((s) => s.external).map((s) => s.dockerName ?? s.name)).toEqual(['every_key_ext_secret']);
    expect(loaded.spec.configs.filter((c) => c.external).map((c) => c.dockerName ?? c.name)).toEqual(['every_key_ext_config']);
  });
});
