import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { checkTestbed, loadTestbed } from './testbed';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

/**
 * For the integration and e2e projects: checks every real service (failing, never skipping, when one is
 * missing), then starts one Temporal dev server on a free port with its own SQLite file and sciops'
 * search attributes registered.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bed = loadTestbed();
  await checkTestbed(bed);
  const dir = mkdtempSync(path.join(tmpdir(), 'sciops-temporal-'));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: bed.temporalCliPath },
      dbFilename: path.join(dir, 'temporal.db'),
      searchAttributes: SEARCH_ATTRIBUTES,
    },
  });
  project.provide('temporalAddress', env.address);
  return async () => {
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  };
}
