import { z } from 'zod';
import { DEFAULT_QUEUE_TIMEOUT_SECONDS } from './batch-jobs';
import { BIND_ROOTS_SETTING, CAPABILITY, neverBound, normalPath, VOLUME_NAME } from './experiment-policy';
import type { ExperimentState } from './experiment-state';
import { NODE_NAME } from './queues';

/**
 * The soft time limit of each experiment type the platforms run, in seconds; overridden per type with
 * `EXPERIMENT_TIME_LIMIT_<TYPE>` (e.g. EXPERIMENT_TIME_LIMIT_DATASET_SYNC=600). Other types get the default.
 */
export const DEFAULT_TIME_LIMITS: Readonly<Record<string, number>> = {
  correlation_analysis: 10800,
  feature_selection: 10800,
  statistical_validation: 10800,
  model_training: 10800,
  inference: 10800,
  dataset_sync: 3600,
};
export const DEFAULT_TIME_LIMIT_SECONDS = 10800;

export const EXPERIMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const EXPERIMENT_TYPE = /^[a-z][a-z0-9_]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * An experiment's environment is workflow input (kept in history, and sent again on every Batch job), so it
 * is for settings, not data: 32 KiB a value, 64 KiB in all (names, values, `=` and a separator each).
 */
const ENV_VALUE_MAX = 32 * 1024;
const ENV_TOTAL_MAX = 64 * 1024;
const absolutePath = z.string().regex(/^\/\S*$/, 'must be an absolute path such as /data/out');

const mountSchema = z.strictObject({
  type: z.enum(['volume', 'bind']).describe('`volume`: a named Docker volume; `bind`: a host directory'),
  source: z.string().min(1, 'name the volume or the host directory'),
  target: absolutePath.describe('where it appears inside the container'),
  readOnly: z.boolean().default(false),
});

const efsVolumeSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ only'),
  fileSystemId: z.string().regex(/^fs-[0-9a-f]+$/, 'an EFS file system id such as fs-0123abcd'),
  accessPointId: z
    .string()
    .regex(/^fsap-[0-9a-f]+$/, 'an EFS access point id such as fsap-0123abcd')
    .optional(),
  rootDirectory: absolutePath.optional(),
  containerPath: absolutePath,
  readOnly: z.boolean().default(false),
});

/** One experiment: what to run, where, with which limits. The same document comes from the CLI, the UI, or a row. */
export const experimentSpecSchema = z
  .strictObject({
    id: z.string().regex(EXPERIMENT_ID, 'letters, digits, "_" and "-", at most 63, starting with a letter or digit'),
    type: z
      .string()
      .regex(EXPERIMENT_TYPE, 'lower-case words joined by "_", e.g. correlation_analysis')
      .describe('selects the default soft time limit'),
    image: z.string().regex(/^\S+$/, 'name a Docker image, e.g. local/busybox:1 (no spaces)'),
    command: z
      .array(z.string())
      .optional()
      .describe("replaces the image's CMD (compose's `command`; the ENTRYPOINT stays) on every backend; the image's default when absent"),
    env: z
      .record(
        z.string().regex(ENV_NAME, 'environment variable names are letters, digits and _'),
        z.string().max(ENV_VALUE_MAX, `at most ${ENV_VALUE_MAX} characters: pass larger data as a file in a mount`),
      )
      .refine((env) => Object.entries(env).reduce((n, [k, v]) => n + k.length + v.length + 2, 0) <= ENV_TOTAL_MAX, {
        message: `at most ${ENV_TOTAL_MAX} characters in all (the spec is workflow input): pass larger data as files in a mount`,
      })
      .default({}),
    mounts: z.array(mountSchema).default([]),
    workingDir: absolutePath.optional(),
    resources: z
      .strictObject({
        cpus: z.number().positive().max(512).optional(),
        // 2^40 MB: Docker takes bytes as an int64, and refuses more (HTTP 500) on every try.
        memoryMb: z.number().int().min(6).max(1_099_511_627_776).optional(),
        gpus: z.number().int().min(0).max(64).optional(),
      })
      .default({}),
    placement: z
      .strictObject({
        constraints: z.array(z.string().regex(/^\S+\s*(==|!=)\s*\S+$/, 'a swarm constraint such as node.labels.gpu==true')).default([]),
        node: z.string().regex(NODE_NAME, 'a node name as `docker node ls` shows it').optional(),
      })
      .default({ constraints: [] }),
    backend: z.enum(['docker', 'swarm', 'batch']).default('docker'),
    timeLimitSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86400)
      .optional()
      .describe('soft time limit; the default comes from EXPERIMENT_TIME_LIMIT_<TYPE> on the db worker'),
    stopGraceSeconds: z.number().int().min(0).max(3600).default(10).describe('between SIGTERM and SIGKILL when stopped'),
    maxAttempts: z.number().int().min(1).max(20).default(3).describe('runs started after crashes before giving up'),
    capabilities: z
      .array(
        z
          .string()
          .regex(CAPABILITY, 'a Linux capability without CAP_, e.g. NET_BIND_SERVICE')
          .refine((cap) => cap !== 'ALL', 'ALL is never granted: name the capabilities the experiment needs'),
      )
      .optional()
      .describe('capabilities added back after all are dropped; each must be in SCIOPS_EXPERIMENT_CAPABILITIES on the docker worker'),
    outputDir: z
      .string()
      .refine((dir) => {
        const normal = normalPath(dir);
        return normal !== undefined && normal !== '/' && (dir === normal || dir === `${normal}/`);
      }, 'must be an absolute path under the experiments directory (SCIOPS_EXPERIMENTS_DIR on the worker), without "." or ".."')
      .optional()
      .describe('where stdout.txt, stderr.txt and exit_code.txt go: a directory under SCIOPS_EXPERIMENTS_DIR on the worker'),
    batch: z
      .strictObject({
        jobQueue: z.string().min(1, 'name the Batch job queue'),
        efsVolumes: z.array(efsVolumeSchema).default([]),
        queueTimeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(7 * 86400)
          .optional()
          .describe(
            `how long the job may wait in its queue before it runs (default ${DEFAULT_QUEUE_TIMEOUT_SECONDS}); the soft limit counts from RUNNING`,
          ),
      })
      .optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.backend === 'batch' && spec.batch === undefined) {
      ctx.addIssue({ code: 'custom', path: ['batch'], message: 'required when backend is "batch": give batch.jobQueue' });
    }
    if (spec.backend !== 'batch' && spec.batch !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['batch'], message: `only for backend "batch"; remove it or set backend: batch` });
    }
    if (spec.backend === 'docker' && (spec.placement.constraints.length > 0 || spec.placement.node !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['placement'],
        message: 'placement needs backend "swarm"; the docker backend runs on one engine',
      });
    }
    if (spec.backend === 'batch' && spec.mounts.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['mounts'], message: 'Batch jobs cannot mount Docker volumes; use batch.efsVolumes' });
    }
    if (spec.backend === 'batch' && spec.capabilities !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['capabilities'], message: 'only for the docker and swarm backends' });
    }
    spec.mounts.forEach((m, i) => {
      const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['mounts', i, 'source'], message });
      if (m.type === 'volume') {
        if (!VOLUME_NAME.test(m.source)) issue('a volume name: letters, digits, "_", "." and "-" (a host path needs type: bind)');
        return;
      }
      const path = normalPath(m.source);
      const never = path === undefined ? undefined : neverBound(path);
      if (!m.source.startsWith('/')) issue('a bind mount source must be an absolute host path');
      else if (path === undefined) issue('a bind mount source may not contain ".."');
      else if (never !== undefined) issue(`a bind of ${path} is never allowed (${never}), whatever ${BIND_ROOTS_SETTING} says`);
    });
  });

export type ExperimentSpec = z.infer<typeof experimentSpecSchema>;

/** What a finished run reports, whatever the backend. */
export interface RunOutcome {
  readonly exitCode: number;
  /**
   * The file in outputDir that holds the run's stderr (`stderr.txt`; Batch's combined log: `stdout.txt`).
   * Failure messages name it and never quote it: what an experiment prints may be its data, and a message
   * ends up in workflow history. Absent in results recorded before it existed.
   */
  readonly errorLog?: string;
  readonly outputDir: string;
}

/** An experiment as recorded: what runExperiment returns, and `sciops experiment status` shows. */
export interface ExperimentResult {
  readonly id: string;
  readonly type: string;
  readonly state: ExperimentState;
  /** Workflow runs that took this experiment (a re-run after a crash is one more). */
  readonly attempts: number;
  readonly exitCode?: number;
  readonly durationSeconds?: number;
  readonly outputDir?: string;
  readonly message?: string;
}

/** The last `lines` non-empty lines of a text, for messages. */
export function lastLines(text: string, lines = 10): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n');
}

/** Environment variable that overrides one type's soft time limit. */
export function timeLimitSetting(type: string): string {
  return `EXPERIMENT_TIME_LIMIT_${type.toUpperCase()}`;
}

/** Environment variable that caps how many experiments of one type are IN_PROCESS at once. */
export function concurrencySetting(type: string): string {
  return `EXPERIMENT_CONCURRENCY_${type.toUpperCase()}`;
}
