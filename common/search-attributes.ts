import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that make the Web UI's workflow list filterable. `sciops dev` registers them on
 * its dev server; on a production server register them once with
 * `temporal operator search-attribute create --name <Name> --type <Keyword|KeywordList>`.
 */
export const SearchAttribute = {
  stack: defineSearchAttributeKey('SciopsStack', SearchAttributeType.KEYWORD),
  experimentId: defineSearchAttributeKey('SciopsExperimentId', SearchAttributeType.KEYWORD),
  experimentState: defineSearchAttributeKey('SciopsExperimentState', SearchAttributeType.KEYWORD),
  experimentType: defineSearchAttributeKey('SciopsExperimentType', SearchAttributeType.KEYWORD),
  /** Every target a backup or restore touches. */
  backupTarget: defineSearchAttributeKey('SciopsBackupTarget', SearchAttributeType.KEYWORD_LIST),
  /** `backup` or `restore`. */
  backupKind: defineSearchAttributeKey('SciopsBackupKind', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTES = Object.values(SearchAttribute);

/** How the Temporal CLI names an attribute's type (`--type`, `--search-attribute Name=Type`). */
export function cliTypeName(key: (typeof SEARCH_ATTRIBUTES)[number]): 'Keyword' | 'KeywordList' {
  return key.type === SearchAttributeType.KEYWORD_LIST ? 'KeywordList' : 'Keyword';
}
