import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../common/compose/env-file';
import { loadCompose } from '../../common/compose/load';
import { InputError } from '../../common/errors';

function issues(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.issues;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('parseEnvFile (docker/cli kvfile rules, as docker stack deploy reads env_file)', () => {
  it('reads KEY=VALUE lines, skips comments and blank lines, keeps everything after the first = as written', () => {
    const text = [
      '# a comment',
      '',
      '   # an indented comment',
      'PLAIN=value',
      '  INDENTED=drops leading space only  ',
      'URL=postgres://u:p@db/app?sslmode=require',
      'HASH=a # not a comment',
      'EQUALS=a=b=c',
      '',
    ].join('\n');
    expect(parseEnvFile(text, 'app.env')).toEqual({
      PLAIN: 'value',
      INDENTED: 'drops leading space only  ',
      URL: 'postgres://u:p@db/app?sslmode=require',
      HASH: 'a # not a comment',
      EQUALS: 'a=b=c',
    });
  });

  it('keeps quotes as part of the value: docker does no unquoting', () => {
    expect(parseEnvFile(`DOUBLE="two words"\nSINGLE='one'\nINNER=a"b"c\n`, 'q.env')).toEqual({
      DOUBLE: '"two words"',
      SINGLE: "'one'",
      INNER: 'a"b"c',
    });
  });

  it('keeps empty values empty, and lets a later line win', () => {
    expect(parseEnvFile('EMPTY=\nTWICE=1\nTWICE=2\n', 'e.env')).toEqual({ EMPTY: '', TWICE: '2' });
  });

  it('takes a bare name from the environment when it is set there, and leaves it out otherwise', () => {
    expect(parseEnvFile('FROM_ENV\nMISSING\n', 'b.env', { FROM_ENV: 'yes' })).toEqual({ FROM_ENV: 'yes' });
    expect(parseEnvFile('FROM_ENV\n', 'b.env')).toEqual({});
  });

  it('drops a BOM and CR line ends, and reads a last line without a newline', () => {
    expect(parseEnvFile('\uFEFFFIRST=1\r\nSECOND=2\r\nLAST=3', 'w.env')).toEqual({ FIRST: '1', SECOND: '2', LAST: '3' });
  });

  it('refuses `export` (a name with a space) with file:line, as docker does', () => {
    expect(issues(() => parseEnvFile('OK=1\nexport TOKEN=abc\n', 'app.env'))).toEqual([
      'app.env:2: variable "export TOKEN" contains whitespace: remove "export": docker reads env files literally, not as shell scripts',
    ]);
  });

  it('reports every bad line: a value without a name, a name with a space or tab', () => {
    expect(issues(() => parseEnvFile('=orphan\nGOOD=1\nTWO WORDS=x\nTAB\tNAME\n', 'bad.env'))).toEqual([
      'bad.env:1: no variable name before "=" in "=orphan": write NAME=value',
      'bad.env:3: variable "TWO WORDS" contains whitespace: a name cannot hold spaces or tabs',
      'bad.env:4: variable "TAB\\tNAME" contains whitespace: a name cannot hold spaces or tabs',
    ]);
  });
});

describe('env_file in loadCompose', () => {
  const files: Record<string, string> = {
    '/p/app.env': 'A=from file\nB=from file\nEMPTY_IN_FILE=\nBARE_SET\nBARE_UNSET\n',
    '/p/more/extra.env': 'B=from extra\nC=from extra\n',
    '/p/bad.env': 'OK=1\nexport NO=1\n',
  };
  const readFile = (p: string) => {
    const text = files[p];
    if (text === undefined) throw new Error(`ENOENT: no such file ${p}`);
    return text;
  };
  const load = (service: string[], environment: Record<string, string> = {}) =>
    loadCompose({
      files: [
        {
          path: '/p/docker-compose.yml',
          text: ['services:', '  web:', '    image: nginx', ...service.map((l) => `    ${l}`), ''].join('\n'),
        },
      ],
      environment,
      readFile,
    });

  it('reads the files in order relative to the first file, then lets environment win; empty values take the environment', () => {
    const { model } = load(['env_file: [./app.env, more/extra.env]', 'environment:', '  C: from environment', '  D:'], {
      EMPTY_IN_FILE: 'from the environment',
      BARE_SET: 'bare from the environment',
      D: 'd from the environment',
    });
    expect(model.services.web?.environment).toEqual({
      A: 'from file',
      B: 'from extra',
      EMPTY_IN_FILE: 'from the environment',
      BARE_SET: 'bare from the environment',
      C: 'from environment',
      D: 'd from the environment',
    });
  });

  it('lets a name without a value in environment replace the env file value with null when the environment lacks it (as docker does)', () => {
    const { model } = load(['env_file: ./app.env', 'environment:', '  - A', '  - B=']);
    expect(model.services.web?.environment).toMatchObject({ A: null, B: '' });
  });

  it('takes a single string, and skips a missing file marked required: false', () => {
    expect(load(['env_file: more/extra.env']).model.services.web?.environment).toEqual({ B: 'from extra', C: 'from extra' });
    const { model } = load(['env_file:', '  - path: ./absent.env', '    required: false', '  - ./app.env']);
    expect(model.services.web?.environment.A).toBe('from file');
  });

  it('names the env_file entry that cannot be read or parsed', () => {
    expect(issues(() => load(['env_file:', '  - ./app.env', '  - ./absent.env', '  - ./bad.env']))).toEqual([
      'docker-compose.yml:6:9 services.web.env_file[1]: cannot read env file ./absent.env (/p/absent.env): ENOENT: no such file /p/absent.env; create it, fix the path, or mark it required: false',
      'docker-compose.yml:7:9 services.web.env_file[2]: bad.env:2: variable "export NO" contains whitespace: remove "export": docker reads env files literally, not as shell scripts',
    ]);
  });
});
