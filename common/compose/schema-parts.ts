import { z } from 'zod';
import { type KeyPath, shown } from './issues';

/**
 * Building blocks for the compose schema, one for each construct of the Compose Specification's JSON schema, so that
 * the schema in `schema.ts` reads like the specification: an object closed to unknown keys except `x-` extensions,
 * patternProperties, uniqueItems. The schema only validates; normalisation reads the validated value.
 */

const EXTENSION = /^x-/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutExtensions(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !EXTENSION.test(key)));
}

/** `additionalProperties: false` with `patternProperties: {"^x-": {}}`: the listed keys, and `x-` extensions. */
export function withExtensions<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess(withoutExtensions, z.object(shape).catchall(z.never()));
}

/** `additionalProperties: false` without extensions: only the listed keys. */
export function closed<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape).catchall(z.never());
}

/** `properties` without `additionalProperties`: the listed keys are checked, any other key is allowed. */
export function open<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape).catchall(z.unknown());
}

/** Issues of a sub-schema, re-added under a key by a refinement. */
function forward(ctx: z.RefinementCtx, prefix: KeyPath, error: z.ZodError): void {
  for (const flat of flattenIssues(error.issues)) {
    ctx.addIssue({ code: 'custom', path: [...prefix, ...flat.path], message: flat.message });
  }
}

/**
 * `patternProperties` (keys matching `pattern` hold `value`); with `closedToOthers`, also `additionalProperties: false`.
 * The pattern is searched, not anchored, as JSON schema does.
 */
export function patternRecord(pattern: RegExp, value: z.ZodType, closedToOthers: boolean, keyHint = '') {
  return z.record(z.string(), z.unknown()).superRefine((record, ctx) => {
    for (const [key, item] of Object.entries(record)) {
      if (!pattern.test(key)) {
        if (closedToOthers) ctx.addIssue({ code: 'custom', path: [key], message: `invalid name ${JSON.stringify(key)}${keyHint}` });
        continue;
      }
      const result = value.safeParse(item, { reportInput: true });
      if (!result.success) forward(ctx, [key], result.error);
    }
  });
}

/** `uniqueItems: true`: no two items equal (deep equality, as JSON schema compares them). */
export function unique<T extends z.ZodArray<z.ZodType>>(array: T) {
  return array.superRefine((items, ctx) => {
    const seen: string[] = [];
    items.forEach((item, index) => {
      const key = canonical(item);
      const first = seen.indexOf(key);
      if (first >= 0) ctx.addIssue({ code: 'custom', path: [index], message: `duplicate of item ${first}: list each entry once` });
      seen.push(key);
    });
  });
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Marks every key of a shape optional (JSON schema properties are optional unless `required`). */
export function optional<T extends Record<string, z.ZodType>>(shape: T): { [K in keyof T]: z.ZodOptional<T[K]> } {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as { [K in keyof T]: z.ZodOptional<T[K]> };
}

export const str = z.string();
export const bool = z.boolean();
export const num = z.number();
export const int = z.number().int();
/** `type: [boolean, string]`: a boolean, or a string to interpolate into one. */
export const boolOrString = z.union([z.boolean(), z.string()]);
export const intOrString = z.union([z.number().int(), z.string()]);
export const numOrString = z.union([z.number(), z.string()]);
export const listOfStrings = unique(z.array(z.string()));
export const stringArray = z.array(z.string());
export const stringOrList = z.union([z.string(), listOfStrings]);
/** `list_or_dict`: a mapping of scalars, or a list of unique `KEY=VALUE` strings. */
export const listOrDict = z.union([patternRecord(/.+/, z.union([z.string(), z.number(), z.boolean(), z.null()]), true), listOfStrings]);
/** `driver_opts`: values are strings or numbers. */
export const driverOpts = patternRecord(/^.+$/, z.union([z.string(), z.number()]), false);
/** `command` / `entrypoint`: null, a string, or a list of strings. */
export const command = z.union([z.null(), z.string(), z.array(z.string())]);
export const NAME = /^[a-zA-Z0-9._-]+$/;
export const NAME_HINT = ': use letters, digits, ".", "_" and "-"';

/** One problem found by the schema: a key path and what is wrong there. */
export interface FlatIssue {
  readonly path: KeyPath;
  readonly message: string;
}

/** Turns zod issues into one line per problem: unknown keys one by one, unions reduced to the alternative that fits. */
export function flattenIssues(issues: readonly z.core.$ZodIssue[], base: KeyPath = []): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...(issue.path as (string | number)[])];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown key: remove it or check its spelling' });
        break;
      case 'invalid_union': {
        const fitting = issue.errors.filter((branch) => !isTypeMismatch(branch));
        const chosen = fitting[0];
        const expected = orList(expectedTypes(issue.errors.flat()));
        if (chosen !== undefined) out.push(...flattenIssues(chosen, path));
        else if (issue.input === undefined) out.push({ path, message: `required: add it (${expected})` });
        else out.push({ path, message: `expected ${expected}, got ${shown(issue.input)}` });
        break;
      }
      case 'invalid_type':
        out.push({
          path,
          message:
            issue.input === undefined && issue.expected !== 'never'
              ? `required: add it (${typeName(issue.expected)})`
              : `expected ${typeName(issue.expected)}, got ${shown(issue.input)}`,
        });
        break;
      case 'invalid_value': {
        const allowed = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
        out.push({
          path,
          message: issue.input === undefined ? `required: add it (${allowed})` : `expected ${allowed}, got ${shown(issue.input)}`,
        });
        break;
      }
      case 'too_small':
        out.push({ path, message: `expected at least ${String(issue.minimum)}, got ${shown(issue.input)}` });
        break;
      case 'too_big':
        out.push({ path, message: `expected at most ${String(issue.maximum)}, got ${shown(issue.input)}` });
        break;
      case 'invalid_key':
        out.push({ path, message: `invalid name ${shown(issue.input)}${NAME_HINT}` });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** Whether a union branch failed only because the value is of another type (so another branch is meant). */
function isTypeMismatch(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.every(
    (i) => i.path.length === 0 && (i.code === 'invalid_type' || (i.code === 'invalid_union' && i.errors.every((b) => isTypeMismatch(b)))),
  );
}

/** The types a union's branches expect, in order, without repeats. */
function expectedTypes(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const i of issues) {
    const names = i.code === 'invalid_type' ? [typeName(i.expected)] : i.code === 'invalid_union' ? expectedTypes(i.errors.flat()) : [];
    for (const name of names) if (!out.includes(name)) out.push(name);
  }
  return out;
}

function typeName(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'null':
      return 'nothing (null)';
    default:
      return expected;
  }
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? 'another value';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
