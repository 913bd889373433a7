import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { readSpecFile } from '../../clients/spec-file';
import { SPEC_INPUTS, specJsonSchema, specReferenceFiles } from '../../common/spec-reference';

const root = path.resolve(__dirname, '../..');
const reference = path.join(root, 'docs/reference');
const ajv = new Ajv2020({ strict: false, allErrors: true });
const validator = (name: string) => {
  const input = SPEC_INPUTS.find((i) => i.name === name);
  if (input === undefined) throw new Error(`no input ${name}`);
  const schema = specJsonSchema(input);
  return ajv.getSchema(schema.$id as string) ?? ajv.compile(schema);
};

/** Every example, and the input it is. */
const EXAMPLES: ReadonlyArray<[string, string]> = [
  ...readdirSync(path.join(root, 'examples/stacks')).map((f): [string, string] => [`stacks/${f}`, 'stack']),
  ...readdirSync(path.join(root, 'examples/experiments')).map((f): [string, string] => [`experiments/${f}`, 'experiment']),
  ...readdirSync(path.join(root, 'examples/backups')).map((f): [string, string] => [`backups/${f}`, 'backup']),
  ['doctor.json', 'doctor'],
  ['efs.json', 'efs'],
  ['recover.json', 'recover'],
];

describe('docs/reference', () => {
  it('is what the schemas generate (run `npm run docs:reference` after changing one)', () => {
    const files = specReferenceFiles();
    expect(readdirSync(reference).sort()).toEqual(Object.keys(files).sort());
    for (const [file, text] of Object.entries(files)) expect(readFileSync(path.join(reference, file), 'utf8'), file).toBe(text);
  });

  it('documents every field with its path, and every variant of a union', () => {
    const backup = specReferenceFiles()['backup.md'] as string;
    expect(backup).toContain('| `targets[].urlEnv` (kind `postgres`) | string |  | default `DATABASE_URL`');
    expect(backup).toContain('| `destination.bucket` (kind `s3`) | string | yes |');
    const stack = specReferenceFiles()['stack.md'] as string;
    expect(stack).toContain('| `services[].name` | string | yes |');
  });

  it.each(EXAMPLES)('examples/%s is valid by the JSON Schema an editor uses (%s)', (file, name) => {
    const validate = validator(name);
    const ok = validate(readSpecFile(path.join(root, 'examples', file)));
    expect(validate.errors ?? [], `${file}: ${JSON.stringify(validate.errors)}`).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each(EXAMPLES.filter(([file]) => file.endsWith('.yaml')))('examples/%s names its schema for the editor', (file, name) => {
    const first = readFileSync(path.join(root, 'examples', file), 'utf8').split('\n')[0];
    expect(first).toBe(`# yaml-language-server: $schema=../../docs/reference/${name}.schema.json`);
  });

  it('refuses what the workflows refuse: an unknown key, a wrong type, a missing field', () => {
    const stack = validator('stack');
    expect(stack({ name: 'omics', services: [{ name: 'web', image: 'x', replica: 2 }] })).toBe(false);
    expect(stack({ name: 'omics', services: [{ name: 'web', image: 'x', replicas: 'two' }] })).toBe(false);
    expect(stack({ services: [] })).toBe(false);
    expect(validator('experiment')({ id: 'e1', type: 'correlation_analysis', image: 'x' })).toBe(true);
  });
});
