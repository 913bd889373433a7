/** A dump or restore failed in a way no retry fixes (a tool's error, a missing variable): the run stops. */
export const BACKUP_FAILED_TYPE = 'BackupFailed';
/** A backup file does not match its manifest (corrupted or truncated): refused before anything is changed. */
export const BACKUP_CORRUPT_TYPE = 'BackupCorrupt';
/** The restore target holds data and `force` was not given: nothing was changed. */
export const TARGET_NOT_EMPTY_TYPE = 'TargetNotEmpty';
