import { InputError } from '../errors';
import { fieldPath } from '../validate';
import { checkKeys } from './docker-keys';
import type { DraftFile, DraftService, NormalizeContext } from './draft';
import { finishService } from './finish';
import { interpolateValue } from './interpolate';
import { Issues, put } from './issues';
import { mergeService } from './merge';
import type { ComposeModel, IgnoredKey, LoadedCompose } from './model';
import { normalizeService } from './normalize-service';
import { topFileObjects, topNetworks, topVolumes } from './normalize-top';
import { dirOf, displayPath } from './paths';
import { checkReferences } from './references';
import { validateComposeSchema } from './schema';
import { parseYaml, type YamlSource } from './yaml-source';

export { parseEnvFile } from './env-file';

/** One compose file: its absolute path and its text. */
export interface ComposeSource {
  readonly path: string;
  readonly text: string;
}

export interface LoadComposeInput {
  /** The `-c` files in order; relative paths in them resolve against the first file's directory. */
  readonly files: readonly ComposeSource[];
  /** The variables for interpolation and for environment entries without a value (env file values under the process environment). */
  readonly environment: Readonly<Record<string, string>>;
  /** Reads an `env_file` entry; a throw is reported against that entry. */
  readonly readFile: (absolutePath: string) => string;
  /** The home directory for `~/` in bind sources (default: HOME of `environment`). */
  readonly homeDir?: string;
}

/**
 * Loads compose files as `docker stack deploy` does (docker/cli `cli/compose/loader`), purely: each file is parsed,
 * checked for the keys docker forbids or ignores, interpolated, validated against the Compose Specification and put
 * in long syntax; the files are then merged in order and every reference is checked. Throws an InputError holding
 * every problem found, each as `FILE:LINE:COL KEY-PATH: problem and fix`. Ignored keys are returned with their
 * file and line; keys outside any service carry `service: ''` and their path as `key`.
 */
export function loadCompose(input: LoadComposeInput): LoadedCompose {
  const first = input.files[0];
  if (first === undefined) throw new InputError('compose files', ['no compose file given: pass at least one']);
  const workingDir = dirOf(first.path);
  const issues = new Issues();
  const ignored: IgnoredKey[] = [];
  const drafts: DraftFile[] = [];
  for (const file of input.files) {
    const draft = loadFile(file, displayPath(file.path, workingDir), { ...input, workingDir }, issues, ignored);
    if (draft) drafts.push(draft);
  }
  issues.throwIfAny();
  const base = drafts[0] as DraftFile;
  for (const draft of drafts.slice(1)) {
    if (draft.version.value === base.version.value) continue;
    const describe = (v: DraftFile['version']) => (v.given ? `version ${v.value}` : `no version (read as ${v.value})`);
    issues.add(
      draft.version.at,
      `this file has ${describe(draft.version)}, ${base.source.name} has ${describe(base.version)}: docker stack deploy refuses files of different versions; give them the same version, or remove it from all`,
    );
  }
  const services: Record<string, DraftService> = {};
  for (const draft of drafts) {
    for (const [name, service] of Object.entries(draft.services)) {
      const before = Object.hasOwn(services, name) ? services[name] : undefined;
      put(services, name, before ? mergeService(before, service, issues) : service);
    }
  }
  const top = {
    volumes: mergeByKey(drafts.map((d) => d.volumes)),
    networks: mergeByKey(drafts.map((d) => d.networks)),
    secrets: mergeByKey(drafts.map((d) => d.secrets)),
    configs: mergeByKey(drafts.map((d) => d.configs)),
  };
  checkReferences(services, top, issues);
  issues.throwIfAny();
  const model: ComposeModel = { services: Object.fromEntries(Object.entries(services).map(([n, s]) => [n, finishService(s)])), ...top };
  return { model, ignored };
}

/** Top-level maps of several files: a later file's entry replaces an earlier one of the same key, whole (docker's mergo.Map). */
function mergeByKey<T>(maps: readonly Record<string, T>[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const map of maps) for (const [key, entry] of Object.entries(map)) put(out, key, entry);
  return out;
}

type FileInput = Omit<LoadComposeInput, 'files'> & { readonly workingDir: string };

function loadFile(file: ComposeSource, name: string, input: FileInput, issues: Issues, ignored: IgnoredKey[]): DraftFile | undefined {
  const parsed = parseYaml(file.text, file.path, name);
  if (!parsed.ok) {
    for (const line of parsed.errors) issues.addLine(name, line);
    return undefined;
  }
  const source = parsed.source;
  const raw = source.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issues.add(source.where([]), 'the top level must be a mapping of services, volumes, networks, secrets and configs');
    return undefined;
  }
  const refused = new Set<string>();
  const keys = checkKeys(source, issues, (path) => refused.add(fieldPath(path)));
  ignored.push(...keys);
  if (Object.hasOwn(raw, 'include')) {
    refused.add('include');
    issues.add(source.where(['include']), 'docker stack deploy does not support include: pass each file with -c instead, in order');
  }
  const lookup = (key: string) => (Object.hasOwn(input.environment, key) ? input.environment[key] : undefined);
  let valid = true;
  const document = interpolateValue(raw, [], lookup, (path, message) => {
    issues.add(source.where(path), message);
  }) as Record<string, unknown>;
  for (const issue of validateComposeSchema(document)) {
    if (refused.has(fieldPath(issue.path))) continue;
    issues.add(source.where(issue.path), issue.message);
    valid = false;
  }
  if (!valid) return undefined;
  return normalizeFile(source, document, { ...input, source, issues });
}

function normalizeFile(source: YamlSource, document: Record<string, unknown>, ctx: NormalizeContext): DraftFile {
  const services: Record<string, DraftService> = {};
  for (const [name, raw] of Object.entries((document.services ?? {}) as Record<string, Record<string, unknown>>)) {
    put(services, name, normalizeService(ctx, name, raw));
  }
  const rawVersion = (source.value as Record<string, unknown>).version;
  const version = rawVersion === undefined || rawVersion === '' || rawVersion === '3' ? '3.13' : String(rawVersion);
  return {
    source,
    version: { value: version, given: rawVersion !== undefined, at: source.where(['version']) },
    services,
    volumes: topVolumes(ctx, document.volumes),
    networks: topNetworks(ctx, document.networks),
    secrets: topFileObjects(ctx, document.secrets, 'secret'),
    configs: topFileObjects(ctx, document.configs, 'config'),
  };
}
