import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALLOCATED,
  type JsonObject,
  normalise,
  readEnvFile,
  STACK_PLACEHOLDER,
  type StackInspect,
  specDifferences,
} from '../support/stack-oracle';

/** A service spec as `docker service inspect` shows one of stack `s1` (ids where the engine puts ids). */
function dbSpec(stack = 's1'): JsonObject {
  return {
    Name: `${stack}_db`,
    Labels: { 'com.docker.stack.image': 'postgres:15', 'com.docker.stack.namespace': stack },
    TaskTemplate: {
      ContainerSpec: {
        Image: 'postgres:15',
        Labels: { 'com.docker.stack.namespace': stack },
        Args: ['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf'],
        Env: ['POSTGRES_USER=omics', 'POSTGRES_DB=omics'],
        Mounts: [
          {
            Type: 'volume',
            Source: `${stack}_data`,
            Target: '/var/lib/postgresql/data',
            VolumeOptions: { Labels: { 'com.docker.stack.namespace': stack } },
          },
          { Type: 'bind', Source: '/srv/omics/postgres.conf', Target: '/etc/postgresql/postgresql.conf' },
        ],
        Secrets: [
          { File: { Name: 'zeta', UID: '0', GID: '0', Mode: 292 }, SecretID: 'sec-ext-id', SecretName: 'shared_zeta' },
          { File: { Name: 'db_password', UID: '0', GID: '0', Mode: 256 }, SecretID: `sec-id-${stack}`, SecretName: `${stack}_db_password` },
        ],
        Configs: [
          { File: { Name: '/etc/app.ini', UID: '0', GID: '0', Mode: 292 }, ConfigID: `cfg-id-${stack}`, ConfigName: `${stack}_app` },
        ],
        CapabilityAdd: ['SYS_NICE', 'NET_ADMIN'],
        Hosts: ['10.0.0.2 b.example', '10.0.0.1 a.example'],
      },
      Networks: [
        { Target: `net-back-${stack}`, Aliases: ['db', 'database'] },
        { Target: 'net-ext-id', Aliases: ['db'] },
      ],
      Placement: { Constraints: ['node.role==manager', 'node.labels.disk==ssd'] },
    },
    EndpointSpec: {
      Mode: 'vip',
      Ports: [
        { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 5432, PublishedPort: 15432, PublishMode: 'host' },
      ],
    },
  };
}

function inspect(stack = 's1', spec = dbSpec(stack)): StackInspect {
  return {
    services: [spec],
    networks: [
      {
        Name: `${stack}_back`,
        Id: `net-back-${stack}`,
        Created: '2026-01-01T00:00:00Z',
        Scope: 'swarm',
        Driver: 'overlay',
        IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.0.5.0/24', Gateway: '10.0.5.1' }] },
        Attachable: true,
        Containers: { abc: { Name: 'x' } },
        Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4100', encrypted: '' },
        Labels: { 'com.docker.stack.namespace': stack, 'sciops.stack': stack },
      },
      { Name: 'shared_net', Id: 'net-ext-id', Created: '2025-01-01T00:00:00Z', Scope: 'swarm', Driver: 'overlay', Labels: {} },
    ],
    secrets: [
      {
        ID: `sec-id-${stack}`,
        Version: { Index: 12 },
        CreatedAt: '2026-01-01T00:00:00Z',
        UpdatedAt: '2026-01-01T00:00:00Z',
        Spec: { Name: `${stack}_db_password`, Labels: { 'com.docker.stack.namespace': stack, 'sciops.fingerprint': 'ab12' } },
      },
      { ID: 'sec-ext-id', Version: { Index: 3 }, Spec: { Name: 'shared_zeta', Labels: {} } },
    ],
    configs: [
      {
        ID: `cfg-id-${stack}`,
        Version: { Index: 13 },
        Spec: { Name: `${stack}_app`, Labels: { 'com.docker.stack.namespace': stack }, Data: 'a2V5PXZhbHVlCg==' },
      },
    ],
    volumes: [
      {
        Name: `${stack}_data`,
        Driver: 'local',
        Mountpoint: `/var/lib/docker/volumes/${stack}_data/_data`,
        CreatedAt: '2026-01-01T00:00:00Z',
        Labels: { 'com.docker.stack.namespace': stack },
        Options: null,
        Scope: 'local',
      },
    ],
  };
}

describe('normalise', () => {
  const n = normalise(inspect(), 's1');
  const db = n.services.db as JsonObject;
  const task = db.TaskTemplate as JsonObject;
  const container = task.ContainerSpec as JsonObject;

  it('keys services by their name in the stack and puts the placeholder for the stack name everywhere', () => {
    expect(Object.keys(n.services)).toEqual(['db']);
    expect(db.Name).toBe(`${STACK_PLACEHOLDER}_db`);
    expect(db.Labels).toEqual({ 'com.docker.stack.image': 'postgres:15', 'com.docker.stack.namespace': STACK_PLACEHOLDER });
    expect((container.Mounts as JsonObject[]).map((m) => m.Source)).toEqual(['/srv/omics/postgres.conf', '<stack>_data']);
    expect(Object.keys(n.networks)).toEqual(['<stack>_back', 'shared_net']);
    expect(Object.keys(n.volumes)).toEqual(['<stack>_data']);
  });

  it('replaces secret, config and network ids with the names of the objects', () => {
    expect(container.Secrets).toEqual([
      { File: { Name: 'db_password', UID: '0', GID: '0', Mode: 256 }, SecretID: '<stack>_db_password', SecretName: '<stack>_db_password' },
      { File: { Name: 'zeta', UID: '0', GID: '0', Mode: 292 }, SecretID: 'shared_zeta', SecretName: 'shared_zeta' },
    ]);
    expect((container.Configs as JsonObject[])[0]).toMatchObject({ ConfigID: '<stack>_app', ConfigName: '<stack>_app' });
    expect(task.Networks).toEqual([
      { Target: '<stack>_back', Aliases: ['database', 'db'] },
      { Target: 'shared_net', Aliases: ['db'] },
    ]);
  });

  it('drops sciops labels, and the Labels maps they leave empty', () => {
    expect(n.networks['<stack>_back']?.Labels).toEqual({ 'com.docker.stack.namespace': STACK_PLACEHOLDER });
    expect(n.secrets['<stack>_db_password']).toEqual({
      Name: '<stack>_db_password',
      Labels: { 'com.docker.stack.namespace': STACK_PLACEHOLDER },
    });
    expect(n.networks.shared_net).not.toHaveProperty('Labels');
    expect(n.secrets.shared_zeta).toEqual({ Name: 'shared_zeta' });
  });

  it('drops identity and state, keeps the rest of each object (config data included)', () => {
    expect(n.networks['<stack>_back']).toEqual({
      Name: '<stack>_back',
      Scope: 'swarm',
      Driver: 'overlay',
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.0.5.0/24', Gateway: '10.0.5.1' }] },
      Attachable: true,
      Options: { encrypted: '' },
      Labels: { 'com.docker.stack.namespace': STACK_PLACEHOLDER },
    });
    expect(n.configs['<stack>_app']).toEqual({
      Name: '<stack>_app',
      Labels: { 'com.docker.stack.namespace': STACK_PLACEHOLDER },
      Data: 'a2V5PXZhbHVlCg==',
    });
    expect(n.volumes['<stack>_data']).toEqual({
      Name: '<stack>_data',
      Driver: 'local',
      Labels: { 'com.docker.stack.namespace': STACK_PLACEHOLDER },
      Options: null,
      Scope: 'local',
    });
  });

  it('puts <allocated> for the subnet and gateway of the networks named as allocated only', () => {
    const config = (allocatedIpam: string[]) => (normalise(inspect(), 's1', { allocatedIpam }).networks['<stack>_back'] as JsonObject).IPAM;
    expect(config(['back'])).toMatchObject({ Config: [{ Subnet: ALLOCATED, Gateway: ALLOCATED }] });
    expect(config(['s1_back'])).toMatchObject({ Config: [{ Subnet: ALLOCATED, Gateway: ALLOCATED }] });
    expect(config(['other'])).toMatchObject({ Config: [{ Subnet: '10.0.5.0/24', Gateway: '10.0.5.1' }] });
  });

  it('sorts the lists without meaningful order and keeps the others as they are', () => {
    expect(container.Env).toEqual(['POSTGRES_DB=omics', 'POSTGRES_USER=omics']);
    expect(container.CapabilityAdd).toEqual(['NET_ADMIN', 'SYS_NICE']);
    expect((task.Placement as JsonObject).Constraints).toEqual(['node.labels.disk==ssd', 'node.role==manager']);
    expect(((db.EndpointSpec as JsonObject).Ports as JsonObject[]).map((p) => p.TargetPort)).toEqual([5432, 53]);
    expect(container.Args).toEqual(['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf']);
    expect(container.Hosts).toEqual(['10.0.0.2 b.example', '10.0.0.1 a.example']);
  });

  it('makes two deployments of one stack under other names and ids, in another order, the same', () => {
    const other = inspect('t9');
    const spec = other.services[0] as JsonObject;
    const c = (spec.TaskTemplate as JsonObject).ContainerSpec as JsonObject;
    c.Env = [...(c.Env as string[])].reverse();
    c.Mounts = [...(c.Mounts as JsonObject[])].reverse();
    (spec.TaskTemplate as JsonObject).Networks = [...((spec.TaskTemplate as JsonObject).Networks as JsonObject[])].reverse();
    const normalised = normalise({ ...other, networks: [...other.networks].reverse() }, 't9');
    expect(specDifferences(n, normalised)).toEqual([]);
    expect(JSON.stringify(normalised)).toBe(JSON.stringify(n));
  });

  it('takes a whole service inspect as its Spec, leaving out the service id, version, endpoint and status', () => {
    const whole: JsonObject = {
      ID: 'svc-id',
      Version: { Index: 40 },
      CreatedAt: '2026-01-01T00:00:00Z',
      UpdatedAt: '2026-01-01T00:00:01Z',
      Spec: dbSpec(),
      PreviousSpec: { Name: 's1_db' },
      Endpoint: { Spec: {}, VirtualIPs: [{ NetworkID: 'net-back-s1', Addr: '10.0.5.2/24' }] },
      UpdateStatus: { State: 'completed' },
    };
    expect(specDifferences(normalise({ ...inspect(), services: [whole] }, 's1'), n)).toEqual([]);
  });

  it('does not take the stack name out of other names that merely contain it', () => {
    const spec = dbSpec();
    ((spec.TaskTemplate as JsonObject).ContainerSpec as JsonObject).Env = [
      'A=s1',
      'B=s1x',
      'C=xs1',
      'D=/srv/s1/data',
      'E=my_s1_x',
      'F=s1.example',
    ];
    const env = (((normalise(inspect('s1', spec), 's1').services.db as JsonObject).TaskTemplate as JsonObject).ContainerSpec as JsonObject)
      .Env;
    expect(env).toEqual(['A=<stack>', 'B=s1x', 'C=xs1', 'D=/srv/<stack>/data', 'E=my_s1_x', 'F=s1.example']);
  });

  it('leaves every other difference to show', () => {
    const spec = dbSpec();
    const c = (spec.TaskTemplate as JsonObject).ContainerSpec as JsonObject;
    delete c.Args;
    c.Hosts = ['10.0.0.1 a.example', '10.0.0.2 b.example'];
    ((c.Mounts as JsonObject[])[1] as JsonObject).ReadOnly = true;
    (spec.Labels as JsonObject)['sciops.spec-hash'] = 'abc';
    const diffs = specDifferences(n, normalise(inspect('s1', spec), 's1'));
    expect(diffs).toEqual([
      'services.db.TaskTemplate.ContainerSpec.Args: ["postgres","-c","config_file=/etc/postgresql/postgresql.conf"] vs undefined',
      'services.db.TaskTemplate.ContainerSpec.Hosts: ["10.0.0.2 b.example","10.0.0.1 a.example"] vs ["10.0.0.1 a.example","10.0.0.2 b.example"]',
      'services.db.TaskTemplate.ContainerSpec.Mounts["/etc/postgresql/postgresql.conf"].ReadOnly: undefined vs true',
    ]);
  });
});

describe('specDifferences', () => {
  it('is empty for equal values whatever the order of their keys', () => {
    expect(specDifferences({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it('names each differing path with both values', () => {
    expect(specDifferences({ a: 1, b: { c: 'x', d: null } }, { a: 2, b: { c: 'x', e: false } })).toEqual([
      'a: 1 vs 2',
      'b.d: null vs undefined',
      'b.e: undefined vs false',
    ]);
  });

  it('quotes keys that are not plain names, such as label keys', () => {
    expect(specDifferences({ Labels: { 'com.example.x': 'a' } }, { Labels: { 'com.example.x': 'b' } })).toEqual([
      'Labels["com.example.x"]: "a" vs "b"',
    ]);
  });

  it('compares lists of plain values whole, and lists of objects by identity or position', () => {
    expect(specDifferences({ Args: ['a', 'b'] }, { Args: ['a', 'c'] })).toEqual(['Args: ["a","b"] vs ["a","c"]']);
    expect(
      specDifferences(
        { Mounts: [{ Target: '/a', ReadOnly: true }, { Target: '/b' }] },
        { Mounts: [{ Target: '/b' }, { Target: '/c' }, { Target: '/a' }] },
      ),
    ).toEqual(['Mounts["/a"].ReadOnly: true vs undefined', 'Mounts["/c"]: undefined vs {"Target":"/c"}']);
    expect(specDifferences({ Secrets: [{ File: { Name: 'x', Mode: 292 } }] }, { Secrets: [{ File: { Name: 'x', Mode: 256 } }] })).toEqual([
      'Secrets["x"].File.Mode: 292 vs 256',
    ]);
    expect(
      specDifferences(
        { Ports: [{ TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'ingress' }] },
        { Ports: [{ TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'host' }] },
      ),
    ).toEqual(['Ports["8080:80/tcp"].PublishMode: "ingress" vs "host"']);
    expect(specDifferences({ Test: [{ a: 1 }, { a: 2 }] }, { Test: [{ a: 1 }, { a: 3 }] })).toEqual(['Test[1].a: 2 vs 3']);
    expect(specDifferences({ Test: [{ a: 1 }] }, { Test: [{ a: 1 }, { a: 3 }] })).toEqual(['Test: [{"a":1}] vs [{"a":1},{"a":3}]']);
  });

  it('tells an empty list from a missing one, and null from undefined', () => {
    expect(specDifferences({ a: [] }, {})).toEqual(['a: [] vs undefined']);
    expect(specDifferences({ a: null }, {})).toEqual(['a: null vs undefined']);
  });
});

describe('readEnvFile', () => {
  it('reads the .env forms compose files use', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sciops-env-')), '.env');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a value that looks like interpolation and stays literal
    const literal = 'lit ${X} # not a comment';
    writeFileSync(file, ['# a comment', 'A=1', 'export B=two words # trailing', `C='${literal}'`, 'D="x\\ny"', '', 'E='].join('\n'));
    expect(readEnvFile(file)).toEqual({ A: '1', B: 'two words', C: literal, D: 'x\ny', E: '' });
  });
});
