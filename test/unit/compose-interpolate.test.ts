// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are compose interpolation templates, not JavaScript ones
import { describe, expect, it } from 'vitest';
import { InterpolationError, interpolateValue, substitute } from '../../common/compose/interpolate';
import { loadCompose } from '../../common/compose/load';
import { InputError } from '../../common/errors';

const ENV: Record<string, string> = { NAME: 'web', EMPTY: '', TAG: '1.2', HOST: 'db.internal' };
const lookup = (name: string) => ENV[name];
const sub = (template: string) => substitute(template, lookup);

describe('substitute (the Compose Specification interpolation rules)', () => {
  it.each([
    ['$NAME', 'web'],
    ['${NAME}', 'web'],
    ['pre-${NAME}-post', 'pre-web-post'],
    ['$NAME.example.org', 'web.example.org'],
    ['${UNSET}', ''],
    ['$UNSET', ''],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${NAME:-fallback}', 'web'],
    ['${UNSET-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${NAME-fallback}', 'web'],
    ['${NAME:?needed}', 'web'],
    ['${EMPTY?needed}', ''],
    ['${UNSET:-${NAME}}', 'web'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['${UNSET:-$TAG}', '1.2'],
    ['${UNSET:-a ${NAME} b}', 'a web b'],
    ['${NAME:-${UNSET:?not evaluated}}', 'web'],
    ['$$NAME', '$NAME'],
    ['$${NAME}', '${NAME}'],
    ['cost: $$5', 'cost: $5'],
    ['${UNSET:-$$literal}', '$literal'],
    ['$5 and $ alone and a$', '$5 and $ alone and a$'],
    ['$-x', '$-x'],
    ['${name_lower}', ''],
    ['$_under', ''],
  ])('%s -> %s', (template, expected) => {
    expect(sub(template)).toBe(expected);
  });

  it('refuses a required variable that is unset, or unset or empty, with its message', () => {
    expect(() => sub('${UNSET:?set UNSET first}')).toThrow('required variable UNSET is unset or empty: set UNSET first');
    expect(() => sub('${EMPTY:?}')).toThrow('required variable EMPTY is unset or empty: set EMPTY in the environment or the env file');
    expect(() => sub('${UNSET?}')).toThrow('required variable UNSET is unset');
    expect(() => sub('${UNSET?host is $HOST}')).toThrow('required variable UNSET is unset: host is db.internal');
  });

  it.each([['${NAME:+set}'], ['${NAME/web/app}'], ['${1BAD}'], ['${}'], ['${NAME']])(
    'refuses %s, which the specification does not define',
    (template) => {
      expect(() => sub(template)).toThrow(InterpolationError);
    },
  );

  it('interpolates string values, never keys, numbers or booleans', () => {
    const errors: string[] = [];
    const value = interpolateValue({ $NAME: '$NAME', n: 5, b: true, list: ['${TAG}', null] }, [], lookup, (path, message) =>
      errors.push(`${path.join('.')}: ${message}`),
    );
    expect(value).toEqual({ $NAME: 'web', n: 5, b: true, list: ['1.2', null] });
    expect(errors).toEqual([]);
  });

  it('reports every failed value with its key path and keeps going', () => {
    const errors: string[] = [];
    interpolateValue({ a: '${X:?x}', b: ['ok', '${Y?y}'] }, [], lookup, (path, message) => errors.push(`${path.join('.')}: ${message}`));
    expect(errors).toEqual(['a: required variable X is unset or empty: x', 'b.1: required variable Y is unset: y']);
  });
});

describe('interpolation in loadCompose', () => {
  const load = (text: string, environment: Record<string, string> = {}) =>
    loadCompose({ files: [{ path: '/p/docker-compose.yml', text }], environment, readFile: () => '' });

  it('fills values after YAML parsing, so a quoted or plain scalar interpolates the same way', () => {
    const { model } = load(
      ['services:', '  web:', '    image: "nginx:${TAG}"', '    hostname: $NAME', '    environment:', '      HOME_DIR: $$HOME', ''].join(
        '\n',
      ),
      { TAG: '1.27', NAME: 'front' },
    );
    expect(model.services.web?.image).toBe('nginx:1.27');
    expect(model.services.web?.hostname).toBe('front');
    expect(model.services.web?.environment).toEqual({ HOME_DIR: '$HOME' });
  });

  it('turns an interpolated number into the field type, as docker casts it', () => {
    const { model } = load(['services:', '  web:', '    image: nginx', '    deploy:', '      replicas: ${N}', ''].join('\n'), { N: '3' });
    expect(model.services.web?.deploy.replicas).toBe(3);
  });

  it('names file, line, column and key of every variable that must be set', () => {
    const text = [
      'services:',
      '  web:',
      '    image: nginx:${TAG:?give the image tag}',
      '    environment:',
      '      PASSWORD: ${DB_PASSWORD?}',
      '',
    ].join('\n');
    try {
      load(text);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).what).toBe('compose file docker-compose.yml');
      expect((e as InputError).issues).toEqual([
        'docker-compose.yml:3:5 services.web.image: required variable TAG is unset or empty: give the image tag',
        'docker-compose.yml:5:7 services.web.environment.PASSWORD: required variable DB_PASSWORD is unset: set DB_PASSWORD in the environment or the env file',
      ]);
    }
  });
});
