import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { interpolateValue } from '../../common/compose/interpolate';
import { loadCompose } from '../../common/compose/load';
import { validateComposeSchema } from '../../common/compose/schema';
import { parseYaml } from '../../common/compose/yaml-source';
import { InputError } from '../../common/errors';
import { fieldPath } from '../../common/validate';

/**
 * sciops' own zod schema of a compose file against the referee, the Compose Specification's JSON schema run by ajv:
 * on every fixture and on the real corpus files, both must accept or both refuse the interpolated document. Each
 * invalid fixture says in its header who refuses it (`schema`: both schemas; `sciops`: the JSON schema accepts it but
 * docker stack deploy, and so sciops, refuses it; `yaml`: it is not YAML) and the issue lines sciops must report.
 */

const ROOT = path.resolve(__dirname, '../..');
const CORPUS = path.resolve(ROOT, '../shared/compose-corpus');
const FIXTURES = path.join(ROOT, 'test/fixtures/compose');

const jsonSchema = JSON.parse(readFileSync(path.join(CORPUS, 'spec/compose-spec.json'), 'utf8')) as Record<string, unknown>;
// The file names draft-07 by an https URL ajv does not know; ajv's default meta-schema is draft-07.
delete jsonSchema.$schema;
delete jsonSchema.$id;
const ajv = new Ajv({ strict: false, allowUnionTypes: true, allErrors: true });
addFormats(ajv);
const referee = ajv.compile(jsonSchema);

/** Variables the valid fixtures interpolate. */
const ENVIRONMENT: Record<string, string> = { DB_USER: 'app', FROM_ENV: 'from the environment', HOME: '/home/operator' };

function interpolated(file: string): unknown {
  const parsed = parseYaml(readFileSync(file, 'utf8'), file, path.basename(file));
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return interpolateValue(
    parsed.source.value,
    [],
    (name) => ENVIRONMENT[name],
    () => {},
  );
}

function load(file: string) {
  return loadCompose({
    files: [{ path: file, text: readFileSync(file, 'utf8') }],
    environment: ENVIRONMENT,
    readFile: (p) => readFileSync(p, 'utf8'),
    homeDir: '/home/operator',
  });
}

function issuesOf(file: string): string[] {
  try {
    load(file);
  } catch (e) {
    if (e instanceof InputError) return [...e.issues];
    throw e;
  }
  return [];
}

type Segment = string | number;
type Slot = [Segment[], (value: unknown) => unknown];

/** Every value position of a document, each with a function returning a copy of the document with that value replaced. */
function slots(document: unknown, at: Segment[] = [], replace: (v: unknown) => unknown = (v) => v): Slot[] {
  const out: Slot[] = at.length === 0 ? [] : [[at, replace]];
  if (Array.isArray(document)) {
    document.forEach((item, i) => {
      out.push(...slots(item, [...at, i], (v) => replace(document.map((x, j) => (j === i ? v : x)))));
    });
  } else if (document !== null && typeof document === 'object') {
    for (const key of Object.keys(document)) {
      out.push(...slots((document as Record<string, unknown>)[key], [...at, key], (v) => replace({ ...document, [key]: v })));
    }
  }
  return out;
}

/** Every mapping of a document, each with a function returning a copy with one key added to it. */
function objects(document: unknown): [Segment[], (key: string, value: unknown) => unknown][] {
  const out: [Segment[], (key: string, value: unknown) => unknown][] = [];
  const root = document as Record<string, unknown>;
  out.push([[], (key, value) => ({ ...root, [key]: value })]);
  for (const [at, set] of slots(document)) {
    const current = at.reduce<unknown>((value, part) => (value as Record<Segment, unknown>)[part], document);
    if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
      out.push([at, (key, value) => set({ ...(current as Record<string, unknown>), [key]: value })]);
    }
  }
  return out;
}

const valid = [
  path.join(CORPUS, 'multiomix/docker-compose_dist.yml'),
  path.join(CORPUS, 'modulector/docker-compose_dist.yml'),
  ...readdirSync(path.join(FIXTURES, 'loader'))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => path.join(FIXTURES, 'loader', f)),
];

describe('the compose schema against the Compose Specification JSON schema (ajv)', () => {
  it.each(valid.map((f) => [path.relative(ROOT, f), f]))('both accept %s, and it loads', (_name, file) => {
    const document = interpolated(file);
    expect(referee(document), JSON.stringify(referee.errors)).toBe(true);
    expect(validateComposeSchema(document)).toEqual([]);
    expect(() => load(file)).not.toThrow();
  });

  const mutationBases = [
    'loader/wide.yml',
    'loader/ignored-keys.yml',
    'invalid/forbidden-extends.yml',
    'invalid/forbidden-mem-limit.yml',
    'invalid/secret-file-and-external.yml',
  ];
  it.each(mutationBases)(
    'agrees with it on every one-key mutation of %s (wrong types, unknown keys, extensions)',
    (fixture) => {
      const base = interpolated(path.join(FIXTURES, fixture));
      const replacements: unknown[] = [5, 2.5, -3, 'text', '', true, null, [], ['a', 'a'], [1], {}, { nested: 1 }];
      const disagreements: string[] = [];
      let checked = 0;
      const check = (mutated: unknown, what: string) => {
        checked += 1;
        const theirs = referee(mutated) as boolean;
        const ours = validateComposeSchema(mutated).length === 0;
        if (theirs !== ours)
          disagreements.push(`${what}: JSON schema ${theirs ? 'accepts' : 'refuses'}, sciops ${ours ? 'accepts' : 'refuses'}`);
      };
      for (const [at, set] of slots(base)) {
        for (const value of replacements) check(set(value), `${fieldPath(at)} = ${JSON.stringify(value)}`);
      }
      for (const [at, add] of objects(base)) {
        check(add('bogus_key', 'x'), `${fieldPath(at)} + bogus_key`);
        check(add('x-extension', { any: 'thing' }), `${fieldPath(at)} + x-extension`);
      }
      expect(disagreements).toEqual([]);
      expect(checked).toBeGreaterThan(40);
    },
    60_000,
  );

  const invalidDir = path.join(FIXTURES, 'invalid');
  const invalid = readdirSync(invalidDir)
    .filter((f) => f.endsWith('.yml'))
    .sort();

  it('has at least 15 fixtures both schemas refuse', () => {
    const refusedBySchema = invalid.filter((f) => readFileSync(path.join(invalidDir, f), 'utf8').startsWith('# refused-by: schema'));
    expect(refusedBySchema.length).toBeGreaterThanOrEqual(15);
  });

  it.each(invalid)('%s: refused as its header says, with file:line:col issues', (name) => {
    const file = path.join(invalidDir, name);
    const text = readFileSync(file, 'utf8');
    const refusedBy = /^# refused-by: (schema|sciops|yaml)$/m.exec(text)?.[1];
    const expected = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => `${name}:${m[1]}`);
    expect(refusedBy, 'the header names who refuses the file').toBeDefined();
    expect(expected.length, 'the header lists the issues').toBeGreaterThan(0);
    if (refusedBy !== 'yaml') {
      const document = interpolated(file);
      const ours = validateComposeSchema(document);
      expect(referee(document)).toBe(refusedBy === 'sciops');
      expect(ours.length === 0).toBe(refusedBy === 'sciops');
    }
    const issues = issuesOf(file);
    expect(issues).toEqual(expected);
    for (const issue of issues) expect(issue).toMatch(new RegExp(`^${name.replace('.', '\\.')}:\\d+:\\d+ `));
  });
});
