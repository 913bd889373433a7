import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that make the Web UI's workflow list filterable. `sciops dev` registers them on
 * its dev server; on a production server register them once with
 * `temporal operator search-attribute create --name <Name> --type Keyword`.
 */
export const SearchAttribute = {
  stack: defineSearchAttributeKey('SciopsStack', SearchAttributeType.KEYWORD),
  experimentId: defineSearchAttributeKey('SciopsExperimentId', SearchAttributeType.KEYWORD),
  experimentState: defineSearchAttributeKey('SciopsExperimentState', SearchAttributeType.KEYWORD),
  experimentType: defineSearchAttributeKey('SciopsExperimentType', SearchAttributeType.KEYWORD),
  backupTarget: defineSearchAttributeKey('SciopsBackupTarget', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTES = Object.values(SearchAttribute);
