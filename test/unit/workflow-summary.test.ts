import { describe, expect, it } from 'vitest';
import { progressMarkdown } from '../../common/progress';
import { workflowSummary } from '../../common/workflow-summary';
import { WorkflowType } from '../../common/workflow-types';

describe('workflowSummary', () => {
  it('names the stack, experiment or backup, and nothing an input hides (images, commands, environment)', () => {
    const experiment = { id: 'e1', type: 'dataset_sync', image: 'registry/secret-image:1', env: { TOKEN: 'x' }, command: ['run'] };
    expect(workflowSummary(WorkflowType.runExperiment, experiment)).toBe('experiment e1 (dataset_sync)');
    expect(workflowSummary(WorkflowType.deployStack, { name: 'omics', services: [{ image: 'a' }] })).toBe('deploy stack omics');
    expect(workflowSummary(WorkflowType.backup, { name: 'nightly', targets: [{ name: 'db' }, { name: 'media' }] })).toBe(
      'back up nightly: db, media',
    );
    expect(workflowSummary(WorkflowType.teardownStack, { stack: 'omics', purge: true })).toMatch(/purge/);
    for (const type of Object.values(WorkflowType)) expect(workflowSummary(type, {})).not.toBe('');
  });
});

describe('progressMarkdown', () => {
  it('shows the state, the current step and each step with its detail', () => {
    const text = progressMarkdown({
      state: 'running',
      current: 'dump',
      steps: [
        { name: 'pause services', state: 'skipped' },
        { name: 'dump', state: 'running', detail: 'db' },
        { name: 'verify', state: 'pending' },
      ],
    });
    expect(text.split('\n')).toEqual([
      '**running** — now: dump',
      '',
      '- – pause services: skipped',
      '- ▶ dump: running (db)',
      '- · verify: pending',
    ]);
  });
});
