import { InputError } from '../errors';
import { type NormalizeContext, report } from './draft';
import { parseEnvFileEntries } from './env-file';
import { type KeyPath, put } from './issues';
import { nullableMap } from './normalize-values';
import { displayPath, resolvePath } from './paths';
import { toBoolean } from './units';

/**
 * A service's environment as docker's loader resolves it (`resolveEnvironment`): the `env_file` entries first, in
 * order, then `environment`, each over what came before. A variable whose value is missing or empty takes the value
 * of the variable of the same name in the environment when it is set there; a name without a value and none in the
 * environment is null (the container then inherits nothing). Env files are read through `readFile`, relative to the
 * first file's directory; a `required: false` entry that cannot be read is skipped.
 */
export function resolveEnvironment(
  ctx: NormalizeContext,
  path: KeyPath,
  envFile: unknown,
  environment: unknown,
): Record<string, string | null> | undefined {
  if (envFile === undefined && environment === undefined) return undefined;
  const out: Record<string, string | null> = {};
  const lookup = (key: string): string | undefined => (Object.hasOwn(ctx.environment, key) ? ctx.environment[key] : undefined);
  const update = (vars: Record<string, string | null>) => {
    for (const [key, value] of Object.entries(vars)) {
      const fromEnv = lookup(key);
      put(out, key, (value === null || value === '') && fromEnv !== undefined ? fromEnv : value);
    }
  };
  if (envFile !== undefined) {
    const entries = typeof envFile === 'string' ? [envFile] : (envFile as (string | { path: string; required?: boolean | string })[]);
    entries.forEach((entry, i) => {
      const entryPath = typeof envFile === 'string' ? [...path, 'env_file'] : [...path, 'env_file', i];
      const file = typeof entry === 'string' ? entry : entry.path;
      const required = typeof entry === 'string' || entry.required === undefined ? true : toBoolean(entry.required);
      if (required === undefined) {
        report(ctx, [...entryPath, 'required'], 'expected true or false');
        return;
      }
      const absolute = resolvePath(ctx.workingDir, file);
      let text: string;
      try {
        text = ctx.readFile(absolute);
      } catch (e) {
        if (!required) return;
        report(
          ctx,
          entryPath,
          `cannot read env file ${file} (${absolute}): ${(e as Error).message}; create it, fix the path, or mark it required: false`,
        );
        return;
      }
      try {
        const vars: Record<string, string | null> = {};
        for (const { key, value } of parseEnvFileEntries(text, displayPath(absolute, ctx.workingDir))) {
          if (value !== null) put(vars, key, value);
          else {
            const fromEnv = lookup(key);
            if (fromEnv !== undefined) put(vars, key, fromEnv);
          }
        }
        update(vars);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        for (const issue of e.issues) report(ctx, entryPath, issue);
      }
    });
  }
  if (environment !== undefined) update(nullableMap(ctx, [...path, 'environment'], environment));
  return out;
}
