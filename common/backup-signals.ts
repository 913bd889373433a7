import { defineSignal } from '@temporalio/workflow';

/** Lets a restore that waits for approval (`approve: true`) go on to its destructive steps. */
export const approveRestoreSignal = defineSignal('approve');

/** Lets a target's lock workflow end: the backup or restore holding it is done with the target. */
export const releaseTargetSignal = defineSignal('release');
