import { z } from 'zod';
import { backupSpecSchema } from './backup';
import { importInputSchema } from './backup-import';
import { doctorInputSchema } from './doctor';
import { efsInputSchema } from './efs';
import { experimentSpecSchema } from './experiment';
import { recoverInputSchema } from './recovery';
import { restoreInputSchema } from './restore';
import { shortFormKey } from './spec-fields';
import { stackSpecSchema, teardownInputSchema } from './stack';
import { WorkflowType } from './workflow-types';

/** One input a user writes: a spec file, or what the Web UI's Start Workflow form takes. */
export interface SpecInput {
  /** The file names of its reference: `<name>.md`, `<name>.schema.json`. */
  readonly name: string;
  readonly title: string;
  readonly schema: z.ZodType;
  readonly workflows: readonly string[];
  /** How a user gives it, in one sentence. */
  readonly given: string;
}

export const SPEC_INPUTS: readonly SpecInput[] = [
  {
    name: 'stack',
    title: 'Stack spec',
    schema: stackSpecSchema,
    workflows: [WorkflowType.deployStack, WorkflowType.planStackDeploy],
    given: '`sciops deploy FILE` (YAML or JSON); `sciops stack convert -c docker-compose.yml STACK` prints one made from compose files',
  },
  {
    name: 'teardown',
    title: 'Teardown input',
    schema: teardownInputSchema,
    workflows: [WorkflowType.teardownStack],
    given: '`sciops teardown STACK [--purge]`',
  },
  {
    name: 'experiment',
    title: 'Experiment spec',
    schema: experimentSpecSchema,
    workflows: [WorkflowType.runExperiment],
    given: '`sciops experiment submit FILE`, or a row of the `experiments` table that recovery starts',
  },
  {
    name: 'recover',
    title: 'Recovery input',
    schema: recoverInputSchema,
    workflows: [WorkflowType.recoverExperiments],
    given: 'the schedule the workers create, or the Web UI',
  },
  {
    name: 'backup',
    title: 'Backup spec',
    schema: backupSpecSchema,
    workflows: [WorkflowType.backup, WorkflowType.listBackups],
    given: '`sciops backup run FILE`, `sciops backup schedule create NAME --cron … FILE`, `sciops backup list FILE`',
  },
  {
    name: 'restore',
    title: 'Restore input',
    schema: restoreInputSchema,
    workflows: [WorkflowType.restore],
    given: '`sciops restore LOCATION [--target …] [--ns-from … --ns-to …]`',
  },
  {
    name: 'import',
    title: 'Import input',
    schema: importInputSchema,
    workflows: [WorkflowType.importBackup],
    given: '`sciops backup import FILE --spec SPEC --target NAME --kind postgres|mongo|volume [--taken-at TIME]`',
  },
  {
    name: 'doctor',
    title: 'Doctor input',
    schema: doctorInputSchema,
    workflows: [WorkflowType.doctor],
    given: '`sciops doctor [--node NODE]`',
  },
  {
    name: 'efs',
    title: 'EFS input',
    schema: efsInputSchema,
    workflows: [WorkflowType.ensureEfs],
    given: 'the Web UI, or a workflow client (`examples/efs.json`)',
  },
];

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  [key: string]: unknown;
};

/** The JSON Schema of an input as a user writes it (defaults make fields optional), for editors. Pure. */
export function specJsonSchema(input: SpecInput): Record<string, unknown> {
  const schema = z.toJSONSchema(input.schema, {
    io: 'input',
    unrepresentable: 'any',
    // A short form (a bare string for the object) is a preprocess, which JSON Schema cannot see: say it.
    override: ({ zodSchema, jsonSchema }) => {
      const short = shortFormKey(zodSchema);
      const object = { ...jsonSchema } as JsonSchema;
      const key = object.properties?.[short ?? ''];
      if (key === undefined) return;
      for (const k of Object.keys(jsonSchema)) delete (jsonSchema as Record<string, unknown>)[k];
      Object.assign(jsonSchema, { anyOf: [key, object] });
    },
  }) as JsonSchema;
  const { $schema, ...rest } = schema;
  return { $schema, $id: `https://sciops.dev/schemas/${input.name}.schema.json`, title: `sciops ${input.title.toLowerCase()}`, ...rest };
}

interface Row {
  readonly path: string;
  /** For a field of one variant of a union: which (`kind: "s3"`). */
  readonly variant?: string;
  readonly type: string;
  readonly required: boolean;
  readonly rules: string;
  readonly description: string;
}

const code = (value: unknown) => `\`${typeof value === 'string' && value !== '' ? value : JSON.stringify(value)}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** What a schema's value is, in a word or two: `string`, `integer`, `list of object`, `"a" \| "b"`. */
function typeOf(s: JsonSchema, defs: Record<string, JsonSchema>): string {
  if (s.$ref !== undefined) return typeOf(resolve(s, defs), defs);
  if (s.const !== undefined) return code(s.const);
  if (s.enum !== undefined) return s.enum.map(code).join(' | ');
  const variants = s.anyOf ?? s.oneOf;
  if (variants !== undefined) return [...new Set(variants.map((v) => typeOf(v, defs)))].join(' or ');
  if (s.type === 'array') return `list of ${s.items === undefined ? 'any' : typeOf(s.items, defs)}`;
  if (s.type === 'object' && s.properties === undefined && typeof s.additionalProperties === 'object') {
    return `map of ${typeOf(s.additionalProperties, defs)}`;
  }
  if (Array.isArray(s.type)) return s.type.join(' or ');
  return s.type ?? 'any';
}

/** The constraints a value must meet, as a user reads them. */
function rulesOf(s: JsonSchema): string {
  const rules: string[] = [];
  if (s.default !== undefined) rules.push(`default ${code(s.default)}`);
  if (s.pattern !== undefined) rules.push(`matches ${code(s.pattern)}`);
  if (s.format !== undefined) rules.push(`format ${s.format}`);
  if (s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER) rules.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) rules.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) rules.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) rules.push(`< ${s.exclusiveMaximum}`);
  if (s.minLength !== undefined) rules.push(s.minLength === 1 ? 'not empty' : `at least ${s.minLength} characters`);
  if (s.maxLength !== undefined) rules.push(`at most ${s.maxLength} characters`);
  if (s.minItems !== undefined) rules.push(`at least ${s.minItems} items`);
  if (s.maxItems !== undefined) rules.push(`at most ${s.maxItems} items`);
  return rules.join('; ');
}

function resolve(s: JsonSchema, defs: Record<string, JsonSchema>): JsonSchema {
  const name = s.$ref?.replace(/^#\/\$defs\//, '');
  return name !== undefined && defs[name] !== undefined ? defs[name] : s;
}

/** Every field under `s`, depth first, with its dotted path (`services[].ports[].published`). */
function rows(s: JsonSchema, path: string, required: boolean, defs: Record<string, JsonSchema>, seen: Set<string>): Row[] {
  if (s.$ref !== undefined) {
    if (seen.has(s.$ref)) return [];
    return rows(resolve(s, defs), path, required, defs, new Set([...seen, s.$ref]));
  }
  const own: Row[] = path === '' ? [] : [{ path, type: typeOf(s, defs), required, rules: rulesOf(s), description: s.description ?? '' }];
  const children: Row[] = [];
  const objects = [s, ...(s.allOf ?? [])];
  for (const o of objects) {
    for (const [key, child] of Object.entries(o.properties ?? {})) {
      children.push(...rows(child, path === '' ? key : `${path}.${key}`, (o.required ?? []).includes(key), defs, seen));
    }
    if (typeof o.additionalProperties === 'object' && o.properties === undefined) {
      children.push(...rows(o.additionalProperties, `${path}.<name>`, false, defs, seen).slice(1));
    }
  }
  if (s.type === 'array' && s.items !== undefined) children.push(...rows(s.items, `${path}[]`, false, defs, seen).slice(1));
  for (const v of s.anyOf ?? s.oneOf ?? []) {
    const tag = Object.entries(v.properties ?? {}).find(([, p]) => p.const !== undefined);
    const sub = rows(v, path, required, defs, seen).slice(path === '' ? 0 : 1);
    children.push(...(tag === undefined ? sub : sub.map((r) => ({ ...r, variant: r.variant ?? `${tag[0]} ${code(tag[1].const)}` }))));
  }
  return [...own, ...children];
}

/** The reference page of an input: how it is given, then every field with its type, rules and meaning. Pure. */
export function specReferencePage(input: SpecInput): string {
  const schema = specJsonSchema(input) as JsonSchema;
  const found = rows(schema, '', true, schema.$defs ?? {}, new Set());
  const same = (a: Row, b: Row) => a.path === b.path && a.variant === b.variant && a.type === b.type;
  const unique = found.filter((r, i) => found.findIndex((o) => same(o, r)) === i);
  return [
    `# ${input.title}`,
    '',
    `Started as ${input.workflows.map(code).join(', ')}; given by ${input.given}. JSON Schema: [\`${input.name}.schema.json\`](${input.name}.schema.json)`,
    `(for an editor: \`# yaml-language-server: $schema=…/${input.name}.schema.json\` on a YAML file's first line).`,
    'Generated from the schema the workflows validate with (`npm run docs:reference`); do not edit.',
    '',
    '| field | type | required | rules | meaning |',
    '| ----- | ---- | -------- | ----- | ------- |',
    ...unique.map(
      (r) =>
        `| \`${cell(r.path)}\`${r.variant === undefined ? '' : ` (${r.variant})`} | ${cell(r.type)} | ${r.required ? 'yes' : ''} | ${cell(r.rules)} | ${cell(r.description)} |`,
    ),
    '',
  ].join('\n');
}

/** The index page of docs/reference. Pure. */
export function specReferenceIndex(): string {
  return [
    '# Spec reference',
    '',
    'Every input a user writes, generated from the schemas the workflows validate with (`npm run docs:reference`).',
    '',
    '| input | started as | page | JSON Schema |',
    '| ----- | ---------- | ---- | ----------- |',
    ...SPEC_INPUTS.map(
      (i) =>
        `| ${i.title} | ${i.workflows.map(code).join(', ')} | [${i.name}.md](${i.name}.md) | [${i.name}.schema.json](${i.name}.schema.json) |`,
    ),
    '',
  ].join('\n');
}

/** Every file of docs/reference: name → content. Pure. */
export function specReferenceFiles(): Record<string, string> {
  const files: Record<string, string> = { 'README.md': specReferenceIndex() };
  for (const input of SPEC_INPUTS) {
    files[`${input.name}.md`] = specReferencePage(input);
    files[`${input.name}.schema.json`] = `${JSON.stringify(specJsonSchema(input), null, 2)}\n`;
  }
  return files;
}
