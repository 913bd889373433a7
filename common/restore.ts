import { z } from 'zod';
import {
  type BackupTarget,
  backupSpecSchema,
  databasePattern,
  destinationSchema,
  nameField,
  RESERVED_MONGO_DATABASES,
  RUN_ID,
} from './backup';

/** Restores: what one is given, what a nsFrom must match, what it reports, and how a failed one says what happened. */

/** What `restore` is given: which run of which backup, where, and how careful to be. */
export const restoreInputSchema = z
  .strictObject({
    destination: destinationSchema,
    backup: nameField('backup'),
    run: z.string().regex(RUN_ID, 'a run id such as 20261122T030000Z (`sciops backup list` shows them)'),
    targets: z.array(nameField('target')).default([]).describe('only these targets of the run (default: all)'),
    spec: backupSpecSchema
      .optional()
      .describe("the backup's spec: restore only into its targets, refusing a manifest that names others (default: trust the manifest's)"),
    force: z.boolean().default(false).describe('restore over a target that holds data'),
    approve: z.boolean().default(false).describe('wait for `sciops restore approve ID` before the first destructive step'),
    nsFrom: databasePattern('omics.*').optional().describe('MongoDB: restore the documents of this database ...'),
    nsTo: databasePattern('omics_copy.*')
      .refine((p) => !RESERVED_MONGO_DATABASES.includes(p.slice(0, -2).toLowerCase()), {
        message: `not into ${RESERVED_MONGO_DATABASES.join(', ')}: MongoDB's own databases`,
      })
      .optional()
      .describe('... into this one instead'),
  })
  .superRefine((r, ctx) => {
    if ((r.nsFrom === undefined) !== (r.nsTo === undefined))
      ctx.addIssue({ code: 'custom', path: ['nsTo'], message: 'give nsFrom and nsTo together' });
  });

export type RestoreInput = z.infer<typeof restoreInputSchema>;

/**
 * Why a restore's nsFrom cannot be right, or undefined: it must name the database of a MongoDB target being
 * restored. A typo (`omic.*`) would otherwise leave the target as it is and restore into production. Pure.
 */
export function nsFromProblem(targets: readonly BackupTarget[], nsFrom: string | undefined): string | undefined {
  if (nsFrom === undefined) return undefined;
  const databases = targets.flatMap((t) => (t.kind === 'mongo' ? [t.database] : []));
  if (databases.includes(nsFrom.slice(0, -2))) return undefined;
  const have = databases.length === 0 ? 'no MongoDB target is restored' : `the MongoDB databases restored are ${databases.join(', ')}`;
  return `nsFrom: ${nsFrom} matches no database of this restore (${have})`;
}

export interface RestoreReport {
  readonly backup: string;
  readonly run: string;
  readonly restored: readonly string[];
  /** Where the targets' state from just before the restore was saved (kept; never pruned). */
  readonly safety: string;
}

/**
 * What a failed restore says happened: why it failed, into which targets the safety backup was put back,
 * and into which it could not be (and why), with where the safety backup is kept. Pure.
 */
export function restoreFailedMessage(why: string, safety: string, back: readonly string[], notBack: readonly string[]): string {
  const parts = [`restore failed: ${why}`];
  if (back.length > 0) parts.push(`The safety backup (${safety}) was put back into ${back.join(', ')}`);
  if (notBack.length > 0) parts.push(`The safety backup could NOT be put back into ${notBack.join(', ')}; it is kept at ${safety}`);
  if (back.length === 0 && notBack.length === 0) parts.push(`No target was changed; the safety backup is kept at ${safety}`);
  return parts.join('. ');
}
