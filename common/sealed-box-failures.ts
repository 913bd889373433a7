/** A sealed value could not be opened (its box is gone from the worker, or it was altered): seal it again. */
export const SEALED_BOX_UNREADABLE_TYPE = 'SealedBoxUnreadable';
