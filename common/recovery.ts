import { z } from 'zod';

export const recoverInputSchema = z
  .strictObject({
    pageSize: z.number().int().min(1).max(1000).default(200).describe('rows read (and workflows started) per step'),
    afterId: z.string().optional().describe('resume after this experiment id (set by continue-as-new)'),
  })
  .default({ pageSize: 200 });

export interface RecoveryReport {
  /** Experiments whose workflow was started now. */
  readonly started: readonly string[];
  /** Experiments whose workflow was already running: left alone. */
  readonly running: readonly string[];
  /** Rows whose spec is not a valid experiment spec: marked FINISHED_WITH_ERROR with the reason. */
  readonly invalid: readonly string[];
}
