import { defineSignal } from '@temporalio/workflow';

/** Lets a restore that waits for approval (`approve: true`) go on to its destructive steps. */
export const approveRestoreSignal = defineSignal('approve');
