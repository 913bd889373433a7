import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../../common/errors';
import { type ExperimentSpec, experimentSpecSchema } from '../../common/experiment';
import {
  type ExperimentPolicy,
  experimentOutputDir,
  isWithin,
  normalPath,
  type PolicyContext,
  pathsToResolve,
  policyRefusals,
} from '../../common/experiment-policy';
import { experimentRunRejected } from '../../common/failures';
import { parseInput } from '../../common/validate';

/** The real path of `p` as this worker sees it: its deepest existing ancestor with symlinks resolved, the rest appended. */
async function realPathOf(p: string): Promise<string> {
  const rest: string[] = [];
  let head = p;
  for (;;) {
    try {
      return path.join(await realpath(head), ...rest);
    } catch {
      if (head === '/') return p;
      rest.unshift(path.basename(head));
      head = path.dirname(head);
    }
  }
}

export interface Review {
  /** The spec as the schema parses it; absent when it is not a valid spec at all. */
  readonly spec?: ExperimentSpec;
  /** Every reason to refuse it, each naming the field and the setting; empty: it may run. */
  readonly refusals: readonly string[];
  readonly outputDir?: string;
}

/**
 * The docker worker's side of the experiment policy: every spec an activity is given is parsed again (the
 * workflow input is untrusted: anyone who reaches Temporal can schedule an activity) and checked against
 * the policy with the paths resolved on this worker, before anything is created. The aws worker uses it for
 * the output directory of Batch jobs; `worker` names the one that refuses in its messages.
 */
export function createExperimentGuard(experimentsDir: string, policy: ExperimentPolicy, worker = 'docker') {
  const base = {
    policy: { ...policy, protectedPaths: policy.protectedPaths.map((p) => path.resolve(p)) },
    experimentsDir: path.resolve(experimentsDir),
  };

  async function context(spec: ExperimentSpec): Promise<PolicyContext> {
    const paths = pathsToResolve(spec, base);
    return { ...base, realPaths: new Map(await Promise.all(paths.map(async (p) => [p, await realPathOf(p)] as const))) };
  }

  function parse(raw: unknown): ExperimentSpec | InputError {
    try {
      return parseInput(experimentSpecSchema, raw, 'experiment spec');
    } catch (err) {
      if (err instanceof InputError) return err;
      throw err;
    }
  }

  async function review(raw: unknown): Promise<Review> {
    const spec = parse(raw);
    if (spec instanceof InputError) return { refusals: spec.issues };
    const ctx = await context(spec);
    const output = experimentOutputDir(spec, ctx);
    return { spec, refusals: policyRefusals(spec, ctx), ...('dir' in output ? { outputDir: output.dir } : {}) };
  }

  return {
    review,

    /**
     * The checked spec and its output directory, or a non-retryable ExperimentRunRejected failure naming every
     * refusal. Binds of the experiment's own output directory get that directory made first (Docker refuses
     * a bind source that does not exist).
     */
    async admit(raw: unknown): Promise<{ spec: ExperimentSpec; outputDir: string }> {
      const { spec, refusals, outputDir } = await review(raw);
      const id = (raw as { id?: unknown } | null)?.id;
      if (spec === undefined || outputDir === undefined || refusals.length > 0) {
        throw experimentRunRejected(
          `the ${worker} worker refuses experiment ${typeof id === 'string' ? id : '(no id)'}: ${refusals.join('; ')}`,
        );
      }
      for (const m of spec.mounts) {
        const source = m.type === 'bind' ? normalPath(m.source) : undefined;
        if (source !== undefined && isWithin(source, outputDir)) {
          await mkdir(source, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
            throw experimentRunRejected(
              `the output directory ${source} of experiment ${spec.id} cannot be made (${err.code ?? err.message})`,
            );
          });
        }
      }
      return { spec, outputDir };
    },

    /** Where a stopped run's output goes: the same rule, without the rest of the check (nothing is created). */
    async outputDir(raw: unknown): Promise<string> {
      const spec = parse(raw);
      if (spec instanceof InputError) throw experimentRunRejected(`the ${worker} worker refuses the experiment: ${spec.issues.join('; ')}`);
      const output = experimentOutputDir(spec, await context(spec));
      if ('refusal' in output) throw experimentRunRejected(`the ${worker} worker refuses experiment ${spec.id}: ${output.refusal}`);
      return output.dir;
    },
  };
}

export type ExperimentGuard = ReturnType<typeof createExperimentGuard>;
