import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseDotEnv } from '../common/compose/dot-env';
import { loadCompose } from '../common/compose/load';
import type { IgnoredKey } from '../common/compose/model';
import { composeToStack } from '../common/compose/to-stack';
import { InputError } from '../common/errors';
import { type StackSpec, stackSpecSchema } from '../common/stack';
import { parseInput } from '../common/validate';

export interface ComposeOptions {
  /** `-c` files, in order. */
  readonly files: readonly string[];
  /** `--env-file`; default: `.env` beside the first file, when there is one. */
  readonly envFile?: string;
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(what, [`${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
}

/**
 * The compose files of `sciops deploy -c` as a stack spec: read here (the client's files, as the docker CLI
 * reads them), interpolated from the environment over the env file, merged, converted, validated. Relative
 * paths resolve against the first file's directory; bind sources and secret or config files must then exist
 * on the manager's worker, which reads them (the plan says so when they do not).
 */
export function loadComposeStack(stack: string, options: ComposeOptions): { spec: StackSpec; ignored: readonly IgnoredKey[] } {
  const files = options.files.map((f) => path.resolve(f));
  const first = files[0];
  if (first === undefined) throw new InputError('compose files', ['-c: give at least one compose file']);
  const envFile = options.envFile === undefined ? path.join(path.dirname(first), '.env') : path.resolve(options.envFile);
  const fromFile = options.envFile !== undefined || existsSync(envFile) ? parseDotEnv(read(envFile, 'env file'), envFile) : {};
  const environment: Record<string, string> = { ...fromFile };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) environment[k] = v;
  const { model, ignored } = loadCompose({
    files: files.map((f) => ({ path: f, text: read(f, `compose file ${path.basename(f)}`) })),
    environment,
    readFile: (file) => readFileSync(file, 'utf8'),
    homeDir: homedir(),
  });
  return {
    spec: parseInput(stackSpecSchema, composeToStack(model, stack), `stack ${stack} from ${files.map((f) => path.basename(f)).join(', ')}`),
    ignored,
  };
}

/** What `docker stack deploy` prints for keys the swarm does not use: `Ignoring unsupported options: build, restart`. */
export function ignoredLines(ignored: readonly IgnoredKey[]): string[] {
  const list = (why: IgnoredKey['why']) => [...new Set(ignored.filter((k) => k.why === why).map((k) => k.key))].sort();
  const lines: string[] = [];
  const unsupported = list('unsupported');
  const deprecated = list('deprecated');
  if (unsupported.length > 0) lines.push(`Ignoring unsupported options: ${unsupported.join(', ')}`);
  if (deprecated.length > 0) lines.push(`Ignoring deprecated options: ${deprecated.join(', ')}`);
  return lines;
}
