import { constants } from 'node:fs';
import { open, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isWithin, normalPath } from '../../common/experiment-policy';
import { Failure, type FailureType, permanent } from '../../common/failures';
import {
  checkSources,
  envSourceProblem,
  FILE_READER,
  type FileKind,
  filePathsToResolve,
  fileSourceRefusal,
  type SourceCheck,
  type SourceKind,
  type SourcesSpec,
  type StackSourcePolicy,
  sourcePathsToResolve,
} from '../../common/stack-sources';

const REJECTED: Readonly<Record<FileKind, FailureType>> = {
  secret: Failure.secretRejected,
  config: Failure.configRejected,
  migration: Failure.migrationFailed,
};

/** The real path of `p`: its deepest existing ancestor with symlinks resolved, the rest appended. */
async function realPathOf(p: string): Promise<string> {
  const rest: string[] = [];
  for (let head = p; ; head = path.dirname(head)) {
    try {
      return path.join(await realpath(head), ...rest);
    } catch {
      if (head === path.dirname(head)) return p;
      rest.unshift(path.basename(head));
    }
  }
}

/**
 * A worker's side of the stack source policy (common/stack-sources.ts): what a spec's secrets and configs may
 * read and where its GitLab may be (the manager's worker), which migration files it may read (the db worker),
 * checked with the paths resolved on this worker. Every read
 * goes through it: the plan asks `check` first, and the activities that read a value check it again
 * (an activity can be scheduled by anything that reaches Temporal).
 */
export function createSourceGuard(configured: StackSourcePolicy) {
  const policy: StackSourcePolicy = { ...configured, protectedPaths: configured.protectedPaths.map((p) => path.resolve(p)) };

  async function realPaths(paths: readonly string[]): Promise<(p: string) => string> {
    const found = new Map(await Promise.all(paths.map(async (p) => [p, await realPathOf(p)] as const)));
    return (p) => found.get(p) ?? p;
  }

  return {
    policy,

    /**
     * Every reason not to read these files for `kind` (refused by the policy, or not a readable regular file
     * here), each naming its field; empty: all of them can be read.
     */
    async checkFiles(kind: FileKind, files: ReadonlyArray<{ field: string; file: string }>): Promise<string[]> {
      const written = files.flatMap((f) => normalPath(f.file) ?? []);
      const real = await realPaths(filePathsToResolve(written, policy));
      const problems: string[] = [];
      for (const { field, file } of files) {
        const refusal = fileSourceRefusal(kind, field, file, policy, real);
        if (refusal !== undefined) {
          problems.push(refusal);
          continue;
        }
        const found = await stat(real(normalPath(file) as string)).catch((err: NodeJS.ErrnoException) => err.code ?? err.message);
        if (typeof found === 'string') problems.push(`${field}: ${file} cannot be read on ${FILE_READER[kind]} (${found})`);
        else if (!found.isFile()) problems.push(`${field}: ${file} is not a regular file`);
      }
      return problems;
    },

    /** Every reason to refuse the spec's sources, each naming the field and the setting, and what they refuse. */
    async check(spec: SourcesSpec): Promise<SourceCheck> {
      return checkSources(spec, policy, await realPaths(sourcePathsToResolve(spec, policy)));
    },

    /**
     * The bytes of a `file` source, when the policy allows it. The file opened is the real path checked, without
     * following a last symlink, and the descriptor's own path is checked again: a symlink swapped in after the
     * check cannot lead the read elsewhere.
     */
    async readFile(kind: FileKind, field: string, file: string): Promise<Buffer> {
      const written = normalPath(file);
      const real = await realPaths(filePathsToResolve(written === undefined ? [] : [written], policy));
      const refusal = fileSourceRefusal(kind, field, file, policy, real);
      if (refusal !== undefined) throw permanent(REJECTED[kind], refusal);
      const cannot = (err: NodeJS.ErrnoException): never => {
        throw permanent(REJECTED[kind], `${field}: ${file} cannot be read on ${FILE_READER[kind]} (${err.code ?? err.message})`);
      };
      const checked = real(normalPath(file) as string);
      const handle = await open(checked, constants.O_RDONLY | constants.O_NOFOLLOW).catch(cannot);
      try {
        if (!(await handle.stat()).isFile()) throw permanent(REJECTED[kind], `${field}: ${file} is not a regular file`);
        // Linux names the file a descriptor is open on; elsewhere the check above is all there is.
        const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => checked);
        const inRoot = policy.fileRoots[kind].some((root) => isWithin(opened, real(root)));
        const guarded = policy.protectedPaths.some((p) => isWithin(opened, real(p)) || isWithin(real(p), opened));
        if (!inRoot || guarded)
          throw permanent(REJECTED[kind], `${field}: ${file} moved while it was opened (to ${opened}); nothing was read`);
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },

    /** The value of an `env` source, when the policy allows that variable. */
    readEnv(kind: SourceKind, field: string, name: string, allowEmpty: boolean): string {
      const problem = envSourceProblem(kind, name);
      if (problem !== undefined) throw permanent(REJECTED[kind], `${field}: ${problem}`);
      const found = process.env[name];
      if (found === undefined || (!allowEmpty && found === '')) {
        throw permanent(REJECTED[kind], `${field}: ${name} is not set in the environment of the manager's worker`);
      }
      return found;
    },
  };
}

export type SourceGuard = ReturnType<typeof createSourceGuard>;

/** The activity the plan asks before it reads any value or calls GitLab. */
export function createStackSourceCheck(guard: SourceGuard) {
  return {
    /**
     * What the manager's worker refuses of the spec's secret and config sources and of its GitLab, checked
     * without reading a value or calling GitLab; no problems: everything is allowed.
     */
    async checkStackSources(input: SourcesSpec): Promise<SourceCheck> {
      return guard.check(input);
    },
  };
}
