import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCompose } from '../../common/compose/load';
import { InputError } from '../../common/errors';

const lines = (...l: string[]) => `${l.join('\n')}\n`;

const DIR = path.resolve(__dirname, '../fixtures/compose/loader/merge');
const BASE = readFileSync(path.join(DIR, 'base.yml'), 'utf8');
const OVERRIDE = readFileSync(path.join(DIR, 'override.yml'), 'utf8');

/** Loads texts as -c files base.yml, override.yml, third.yml of the merge fixture directory. */
function load(...texts: string[]) {
  const names = ['base.yml', 'override.yml', 'third.yml'];
  return loadCompose({
    files: texts.map((text, i) => ({ path: path.join(DIR, names[i] as string), text })),
    environment: { FROM_ENV: 'env value' },
    readFile: () => '',
  });
}

function issues(...texts: string[]): readonly string[] {
  try {
    load(...texts);
  } catch (e) {
    if (e instanceof InputError) return e.issues;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('merging several -c files as docker stack deploy does', () => {
  const { model } = load(BASE, OVERRIDE);
  const web = model.services.web;

  it('keeps services in the order of the first file that defines them', () => {
    expect(Object.keys(model.services)).toEqual(['web', 'db', 'cache']);
  });

  it('lets a later scalar win when it is set, and keeps what it does not set', () => {
    expect(web?.image).toBe('nginx:1.27');
    expect(web?.command).toEqual(['nginx', '-g', 'daemon off;']);
    expect(web?.deploy.replicas).toBe(2);
  });

  it('merges environment by key: a later non-empty value wins, an empty or missing one does not clear an earlier value', () => {
    expect(web?.environment).toEqual({ A: '2', B: '3', C: 'base', D: '4', E: 'new' });
  });

  it('merges labels by key (a later value always wins) and appends lists such as cap_add and constraints', () => {
    expect(web?.labels).toEqual({ tier: 'web', owner: 'override' });
    expect(web?.cap_add).toEqual(['NET_ADMIN', 'SYS_ADMIN']);
    expect(web?.deploy.placement.constraints).toEqual(['node.role == worker', 'node.labels.disk == ssd']);
    expect(web?.deploy.resources.limits).toEqual({ memory: 512 * 1024 ** 2, cpus: 0.5 });
  });

  it('does not let false undo true (docker merges booleans as mergo does)', () => {
    expect(web?.read_only).toBe(true);
  });

  it('merges volumes by target (the later mount replaces the earlier), sorted by target', () => {
    expect(web?.volumes).toEqual([
      { type: 'volume', source: 'data', target: '/data', read_only: false },
      { type: 'volume', source: 'data', target: '/etc/nginx/conf.d', read_only: false },
      { type: 'bind', source: path.join(DIR, 'logs'), target: '/logs', read_only: false },
      { type: 'bind', source: path.join(DIR, 'z'), target: '/z', read_only: false },
    ]);
  });

  it('merges ports by published port, sorted by it', () => {
    expect(web?.ports).toEqual([
      { target: 8000, published: 8080, protocol: 'tcp', mode: 'ingress' },
      { target: 443, published: 8443, protocol: 'tcp', mode: 'ingress' },
      { target: 90, published: 9090, protocol: 'tcp', mode: 'ingress' },
    ]);
  });

  it('merges networks by name: later aliases replace earlier ones, a later bare name keeps them', () => {
    expect(web?.networks).toEqual({ front: { aliases: ['www'] }, back: { aliases: ['api'] } });
  });

  it('replaces top-level entries by key and keeps the others', () => {
    expect(model.volumes.data).toEqual({ external: true, name: 'shared_data', labels: {} });
    expect(model.networks.back?.driver).toBe('overlay');
  });

  it('adds a service only a later file defines', () => {
    expect(model.services.cache?.image).toBe('redis:7');
  });

  it('merges three files in order', () => {
    const third = lines('services:', '  web:', '    image: nginx:1.28', '    environment: [A=3]');
    const merged = load(BASE, OVERRIDE, third).model.services.web;
    expect(merged?.image).toBe('nginx:1.28');
    expect(merged?.environment.A).toBe('3');
  });

  it('refuses files of different versions, naming both (docker: "version mismatched between two composefiles")', () => {
    expect(issues(lines('version: "3.8"', 'services: {}'), lines('services:', '  web: { image: nginx }'))).toEqual([
      'override.yml:1:1 version: this file has no version (read as 3.13), base.yml has version 3.8: docker stack deploy refuses files of different versions; give them the same version, or remove it from all',
    ]);
  });

  it('refuses replicas from one file with mode global from another, naming both files (the converter refuses the merged service)', () => {
    const base = lines('services:', '  web:', '    image: nginx', '    deploy:', '      mode: global');
    const override = lines('services:', '  web:', '    deploy:', '      replicas: 3');
    expect(issues(base, override)).toEqual([
      'override.yml:4:7 services.web.deploy.replicas: replicas cannot be used with mode global (mode is set in base.yml:5): remove replicas or the global mode',
    ]);
    const disabled = lines('services:', '  web:', '    healthcheck:', '      disable: true');
    expect(issues(BASE, disabled)).toEqual([
      'override.yml:4:7 services.web.healthcheck.disable: a healthcheck cannot be both disabled and given a test (test is set in base.yml:20): remove test or disable',
    ]);
  });

  it('refuses two healthcheck tests, which docker would join into one command, naming both files', () => {
    const override = lines('services:', '  web:', '    healthcheck:', '      test: [CMD, "false"]');
    expect(issues(BASE, override)).toEqual([
      'override.yml:4:7 services.web.healthcheck.test: docker stack deploy would join this test to the one in base.yml:20 into a single command: set healthcheck.test in one file only',
    ]);
  });

  it('refuses two ports of one file that docker would collapse when it merges the service', () => {
    const base = lines('services:', '  web:', '    image: nginx', '    ports: ["80", "81"]');
    const override = lines('services:', '  web:', '    image: nginx:2');
    expect(issues(base, override)).toEqual([
      'base.yml:4:19 services.web.ports[1]: has the same published port (none) as base.yml:4; docker stack deploy merges ports of a service defined in several files by published port and would keep only one of them: give each its own published port',
    ]);
    expect(load(base).model.services.web?.ports).toHaveLength(2);
  });

  it('checks references once the files are merged', () => {
    const override = lines('services:', '  web:', '    volumes: ["cache:/cache"]');
    expect(issues(BASE, override)).toEqual([
      'override.yml:3:15 services.web.volumes[0]: undefined volume "cache": define it under the top-level volumes key, or write ./cache for a bind mount',
    ]);
  });
});
