import { describe, expect, it } from 'vitest';
import { loadCompose } from '../../common/compose/load';
import type { ComposeService } from '../../common/compose/model';
import { InputError } from '../../common/errors';

const DIR = '/srv/stack';

function load(text: string, environment: Record<string, string> = {}) {
  return loadCompose({ files: [{ path: `${DIR}/docker-compose.yml`, text }], environment, readFile: () => '', homeDir: '/home/op' });
}

/** The web service of a file holding `service` lines under `services.web` (with an image) and `top` lines after. */
function web(service: string[], top: string[] = [], environment: Record<string, string> = {}): ComposeService {
  const text = ['services:', '  web:', '    image: nginx:1.27', ...service.map((l) => `    ${l}`), ...top, ''].join('\n');
  return load(text, environment).model.services.web as ComposeService;
}

function issues(service: string[], top: string[] = []): readonly string[] {
  try {
    web(service, top);
  } catch (e) {
    if (e instanceof InputError) return e.issues;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('short syntax turned into long syntax', () => {
  it('volumes: SOURCE:TARGET:MODE with ro/rw, propagation, nocopy and ignored options; bind sources made absolute', () => {
    const s = web(
      [
        'volumes:',
        '  - data:/data',
        '  - data:/ro:ro',
        '  - data:/nocopy:nocopy',
        '  - ./conf:/etc/conf:ro,z',
        '  - ../shared:/shared:rw',
        '  - ~/cache:/cache:rslave',
        '  - /abs/path/:/abs',
        '  - /anonymous',
      ],
      ['volumes:', '  data:'],
    );
    expect(s.volumes).toEqual([
      { type: 'volume', source: 'data', target: '/data', read_only: false },
      { type: 'volume', source: 'data', target: '/ro', read_only: true },
      { type: 'volume', source: 'data', target: '/nocopy', read_only: false, volume: { nocopy: true } },
      { type: 'bind', source: '/srv/stack/conf', target: '/etc/conf', read_only: true },
      { type: 'bind', source: '/srv/shared', target: '/shared', read_only: false },
      { type: 'bind', source: '/home/op/cache', target: '/cache', read_only: false, bind: { propagation: 'rslave' } },
      { type: 'bind', source: '/abs/path/', target: '/abs', read_only: false },
      { type: 'volume', target: '/anonymous', read_only: false },
    ]);
  });

  it('refuses mode options that do not fit the mount, as docker swarm does', () => {
    expect(issues(['volumes: ["./a:/a:nocopy"]'])).toEqual([
      'docker-compose.yml:4:15 services.web.volumes[0]: nocopy applies to named volumes, not to the bind mount "./a:/a:nocopy": remove it',
    ]);
    expect(issues(['volumes: ["data:/a:rshared"]'], ['volumes:', '  data:'])).toEqual([
      'docker-compose.yml:4:15 services.web.volumes[0]: rshared is a bind mount option; "data:/a:rshared" mounts a named volume: remove it',
    ]);
  });

  it('ports: ranges, published ranges to one target, protocols, an unspecified host address, numbers', () => {
    const s = web([
      'ports:',
      '  - 80',
      '  - "8080:80"',
      '  - "8000-8001:90-91"',
      '  - "7000-7001:70"',
      '  - "53:53/UDP"',
      '  - 0.0.0.0:9000:9000',
      '  - "[::]:9001:9001/sctp"',
      '  - "100-101"',
    ]);
    expect(s.ports).toEqual([
      { target: 80, protocol: 'tcp', mode: 'ingress' },
      { target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' },
      { target: 90, published: 8000, protocol: 'tcp', mode: 'ingress' },
      { target: 91, published: 8001, protocol: 'tcp', mode: 'ingress' },
      { target: 70, published: 7000, protocol: 'tcp', mode: 'ingress' },
      { target: 70, published: 7001, protocol: 'tcp', mode: 'ingress' },
      { target: 53, published: 53, protocol: 'udp', mode: 'ingress' },
      { target: 9000, published: 9000, protocol: 'tcp', mode: 'ingress' },
      { target: 9001, published: 9001, protocol: 'sctp', mode: 'ingress' },
      { target: 100, protocol: 'tcp', mode: 'ingress' },
      { target: 101, protocol: 'tcp', mode: 'ingress' },
    ]);
  });

  it('refuses host addresses a swarm service cannot bind, and fractional ports', () => {
    expect(issues(['ports:', '  - target: 80', '    host_ip: 10.0.0.1', '  - 80.5'])).toEqual([
      'docker-compose.yml:6:9 services.web.ports[0].host_ip: a swarm service cannot bind host address 10.0.0.1 (docker stack deploy ignores it): remove host_ip',
      'docker-compose.yml:7:9 services.web.ports[1]: expected a whole port number, got 80.5',
    ]);
  });

  it('environment: a list of A=b and bare names, a map whose numbers and booleans read as docker renders them', () => {
    expect(web(['environment: [A=b, "C=", D=x=y, FROM_ENV, UNSET]'], [], { FROM_ENV: 'set', UNRELATED: 'x' }).environment).toEqual({
      A: 'b',
      C: '',
      D: 'x=y',
      FROM_ENV: 'set',
      UNSET: null,
    });
    const map = web([
      'environment:',
      '  INT: 2',
      '  FLOAT: 2.0',
      '  HALF: 0.5',
      '  MILLION: 1000000.0',
      '  EXP: 1e6',
      '  SMALL: 0.00001',
      '  OCTAL: 0755',
      '  HEX: 0x1F',
      '  YES: true',
      '  NO: false',
      '  NOTHING:',
      '  STR: "007"',
    ]);
    expect(map.environment).toEqual({
      INT: '2',
      FLOAT: '2',
      HALF: '0.5',
      MILLION: '1e+06',
      EXP: '1e+06',
      SMALL: '1e-05',
      OCTAL: '493',
      HEX: '31',
      YES: 'true',
      NO: 'false',
      NOTHING: null,
      STR: '007',
    });
  });

  it('labels, deploy.labels and sysctls: list a=b or map, a bare name is empty', () => {
    const s = web(['labels: [a=b, flag, "x=1=2"]', 'sysctls: { net.core.somaxconn: 1024 }', 'deploy:', '  labels: { n: 1, b: true, e: }']);
    expect(s.labels).toEqual({ a: 'b', flag: '', x: '1=2' });
    expect(s.sysctls).toEqual({ 'net.core.somaxconn': '1024' });
    expect(s.deploy.labels).toEqual({ n: '1', b: 'true', e: '' });
  });

  it('command and entrypoint: a string is split into words as docker (google/shlex) splits it', () => {
    const s = web([`command: sh -c 'echo "$$HOME"; exit 0' --flag="a b" esc\\ aped`, 'entrypoint: /entry.sh']);
    expect(s.command).toEqual(['sh', '-c', 'echo "$HOME"; exit 0', '--flag=a b', 'esc aped']);
    expect(s.entrypoint).toEqual(['/entry.sh']);
  });

  it('deploy resources: memory in bytes, cpus as a number', () => {
    const s = web([
      'deploy:',
      '  resources:',
      '    limits: { cpus: "0.5", memory: 512M, pids: 50 }',
      '    reservations: { cpus: 0.25, memory: 1g }',
    ]);
    expect(s.deploy.resources).toEqual({
      limits: { cpus: 0.5, memory: 536870912, pids: 50 },
      reservations: { cpus: 0.25, memory: 1073741824, generic_resources: [] },
    });
  });

  it('healthcheck: a string test is CMD-SHELL, numbers given as strings are numbers', () => {
    expect(web(['healthcheck:', '  test: curl -f http://localhost/ || exit 1', '  retries: "5"', '  interval: 1m30s']).healthcheck).toEqual(
      {
        test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
        retries: 5,
        interval: '1m30s',
        disable: false,
      },
    );
  });

  it('extra_hosts: a list of host:ip or host=ip, a map (sorted, as docker does), IPv6 brackets dropped', () => {
    expect(web(['extra_hosts: ["a.internal:10.0.0.1", "b.internal=10.0.0.2", "v6.internal:::1"]']).extra_hosts).toEqual([
      'a.internal:10.0.0.1',
      'b.internal:10.0.0.2',
      'v6.internal:::1',
    ]);
    expect(web(['extra_hosts: { zeta.internal: 10.0.0.9, alpha.internal: "[::1]" }']).extra_hosts).toEqual([
      'alpha.internal:::1',
      'zeta.internal:10.0.0.9',
    ]);
  });

  it('ulimits: a number is both soft and hard; networks: a list becomes a map with empty aliases', () => {
    const s = web(
      ['ulimits: { nproc: 1024, nofile: { soft: 1, hard: 2 } }', 'networks: [front, back]'],
      ['networks:', '  front:', '  back:'],
    );
    expect(s.ulimits).toEqual({ nproc: { soft: 1024, hard: 1024 }, nofile: { soft: 1, hard: 2 } });
    expect(s.networks).toEqual({ front: { aliases: [] }, back: { aliases: [] } });
  });

  it('secrets and configs: short syntax is the source; long syntax keeps target, uid, gid and an octal mode', () => {
    const s = web(
      ['secrets: [token, { source: key, target: key.pem, uid: "1", gid: "2", mode: 0400 }]', 'configs: [site]'],
      ['secrets:', '  token: { file: ./token.txt }', '  key: { external: true }', 'configs:', '  site: { content: "hello" }'],
    );
    expect(s.secrets).toEqual([{ source: 'token' }, { source: 'key', target: 'key.pem', uid: '1', gid: '2', mode: 256 }]);
    expect(s.configs).toEqual([{ source: 'site' }]);
  });

  it('booleans given as strings (yes, on, "true"), and defaults for what the file leaves out', () => {
    const s = web(['tty: "yes"', 'stdin_open: "on"', 'init: "false"']);
    expect([s.tty, s.stdin_open, s.init, s.read_only]).toEqual([true, true, false, false]);
    expect(s).toMatchObject({ environment: {}, labels: {}, volumes: [], ports: [], cap_add: [], dns: [], extra_hosts: [], networks: {} });
    expect(s.deploy).toEqual({ labels: {}, resources: {}, placement: { constraints: [], preferences: [] } });
  });

  it('top level: absent maps are empty, external objects without a name are looked up by their key, files are absolute', () => {
    const bare = load('services:\n  web:\n    image: nginx\n').model;
    expect([bare.volumes, bare.networks, bare.secrets, bare.configs]).toEqual([{}, {}, {}, {}]);
    const { model } = load(
      [
        'services: {}',
        'volumes:',
        '  ext: { external: true }',
        '  legacy: { external: { name: old_name } }',
        '  local: { driver_opts: { size: 10 } }',
        'networks:',
        '  edge: { external: "true" }',
        'secrets:',
        '  token: { file: secrets/token.txt }',
        '  env: { environment: TOKEN }',
        '',
      ].join('\n'),
    );
    expect(model.volumes).toEqual({
      ext: { external: true, name: 'ext', labels: {} },
      legacy: { external: true, name: 'old_name', labels: {} },
      local: { external: false, labels: {}, driver_opts: { size: '10' } },
    });
    expect(model.networks.edge).toEqual({ external: true, name: 'edge', labels: {}, attachable: false, internal: false });
    expect(model.secrets).toEqual({
      token: { external: false, labels: {}, file: '/srv/stack/secrets/token.txt' },
      env: { external: false, labels: {}, environment: 'TOKEN' },
    });
  });

  it('refuses values docker or the swarm refuses, each with its key', () => {
    expect(
      issues([
        'restart: sometimes',
        'stop_grace_period: 10',
        'deploy:',
        '  mode: replicated-job',
        '  endpoint_mode: roundrobin',
        '  restart_policy: { condition: always }',
        '  update_config: { failure_action: retry }',
      ]),
    ).toEqual(['docker-compose.yml:5:5 services.web.stop_grace_period: expected a string, got 10']);
    expect(
      issues([
        'restart: sometimes',
        'deploy:',
        '  mode: replicated-job',
        '  endpoint_mode: roundrobin',
        '  restart_policy: { condition: always }',
        '  update_config: { failure_action: retry }',
      ]),
    ).toEqual([
      'docker-compose.yml:6:7 services.web.deploy.mode: expected replicated or global, got "replicated-job" (sciops does not run job modes)',
      'docker-compose.yml:9:24 services.web.deploy.update_config.failure_action: expected pause, continue or rollback, got "retry"',
      'docker-compose.yml:8:25 services.web.deploy.restart_policy.condition: expected none, on-failure or any, got "always"',
      'docker-compose.yml:7:7 services.web.deploy.endpoint_mode: expected vip or dnsrr, got "roundrobin"',
      'docker-compose.yml:4:5 services.web.restart: expected no, always, on-failure[:N] or unless-stopped, got "sometimes"',
    ]);
  });
});
