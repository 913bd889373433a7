import { z } from 'zod';

export const IA_TRANSITIONS = ['AFTER_1_DAY', 'AFTER_7_DAYS', 'AFTER_14_DAYS', 'AFTER_30_DAYS', 'AFTER_60_DAYS', 'AFTER_90_DAYS'] as const;

/** Input of the ensureEfs workflow: the shared file system Batch experiments mount. */
export const efsInputSchema = z.strictObject({
  creationToken: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _; the same token always names the same file system'),
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'a subnet id such as subnet-0123abcd')).default([]),
  securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, 'a security group id such as sg-0123abcd')).default([]),
  transitionToIA: z.enum(IA_TRANSITIONS).default('AFTER_14_DAYS'),
  backup: z.boolean().default(true).describe('AWS Backup for the file system, set at creation'),
  accessPoint: z
    .strictObject({
      path: z.string().regex(/^\/\S*$/, 'an absolute directory such as /experiments'),
      uid: z.number().int().min(0).default(1000),
      gid: z.number().int().min(0).default(1000),
    })
    .optional(),
});

export type EfsInput = z.infer<typeof efsInputSchema>;

export interface EfsResult {
  readonly fileSystemId: string;
  readonly mountTargetIds: readonly string[];
  readonly accessPointId?: string;
  /** What this run created (the rest existed already). */
  readonly created: readonly string[];
}

/** What an access point gives a job: its root directory and the POSIX user every request runs as. */
export interface AccessPointView {
  readonly RootDirectory?: { readonly Path?: string };
  readonly PosixUser?: { readonly Uid?: number; readonly Gid?: number; readonly SecondaryGids?: readonly number[] };
}

/**
 * Why an existing access point is not the one asked for (undefined: it is): another root directory, another
 * uid or gid, or extra groups would give experiments other files than they name. Pure.
 */
export function accessPointMismatch(point: AccessPointView, want: { path: string; uid: number; gid: number }): string | undefined {
  const path = point.RootDirectory?.Path;
  const user = point.PosixUser;
  if (path !== want.path) return `its root directory is ${path ?? 'not set'}, not ${want.path}`;
  if (user?.Uid !== want.uid || user?.Gid !== want.gid) {
    return `it runs as uid ${user?.Uid ?? 'none'} gid ${user?.Gid ?? 'none'}, not uid ${want.uid} gid ${want.gid}`;
  }
  if ((user.SecondaryGids ?? []).length > 0) return `it adds the groups ${user.SecondaryGids?.join(', ')}`;
  return undefined;
}
