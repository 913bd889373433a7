import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { portAnswers } from '../../clients/dev-server';
import { CliProcess, runCli } from '../support/cli';
import { freePort } from '../support/ports';
import { loadTestbed } from '../support/testbed';

describe('sciops dev: the main job for a newcomer', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'sciops-dev-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('starts a server with its Web UI and the workers, runs the doctor demo, and stops cleanly on Ctrl-C', async () => {
    loadTestbed();
    const port = await freePort([1000]);
    const dev = new CliProcess(['dev'], { ...process.env, SCIOPS_DEV_PORT: String(port), SCIOPS_STATE_DIR: stateDir });
    try {
      await dev.waitFor(/Running\. Press Ctrl-C to stop\./, 150_000);
      expect(dev.stdout).toContain(`Temporal Web UI   http://127.0.0.1:${port + 1000}`);
      expect(dev.stdout).toContain(`export TEMPORAL_ADDRESS=127.0.0.1:${port}`);
      // The demo doctor ran through the workers dev started, against every service.
      expect(dev.stdout).toMatch(/^ok {4}docker +engine .+, swarm manager with 2 ready node\(s\)$/m);
      expect(dev.stdout).toMatch(/^ok {4}db +PostgreSQL \d+/m);
      expect(dev.stdout).toMatch(/^(ok {2}|WARN) {2}aws +/m);

      const ui = await fetch(`http://127.0.0.1:${port + 1000}/`);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toContain('<html');
    } finally {
      expect(await dev.stop('SIGINT', 60_000)).toBe(0);
    }
    expect(dev.stdout).toContain('Stopping the workers...\nStopping the Temporal dev server...\nStopped.');
    expect(await portAnswers(port)).toBe(false);
    expect(await portAnswers(port + 1000)).toBe(false);
  });

  it('refuses a port that is already taken, naming SCIOPS_DEV_PORT', async () => {
    const port = await freePort([1000]);
    const blocker = createServer().listen(port, '127.0.0.1');
    try {
      const result = await runCli(['dev'], { ...process.env, SCIOPS_DEV_PORT: String(port), SCIOPS_STATE_DIR: stateDir });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `sciops: SCIOPS_DEV_PORT: port ${port} is already in use (another \`sciops dev\`?): stop that process or choose another port\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it('keeps its state in a file: a second start finds the first run’s workflows', async () => {
    const port = await freePort([1000]);
    const dev = new CliProcess(['dev', '--no-demo'], { ...process.env, SCIOPS_DEV_PORT: String(port), SCIOPS_STATE_DIR: stateDir });
    try {
      await dev.waitFor(/Running\. Press Ctrl-C to stop\./, 150_000);
      const res = await fetch(
        `http://127.0.0.1:${port + 1000}/api/v1/namespaces/default/workflows?query=${encodeURIComponent("WorkflowType='doctor'")}`,
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { executions?: Array<{ execution: { workflowId: string }; status: string }> };
      expect(body.executions?.length).toBe(1);
      expect(body.executions?.[0].status).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED');
    } finally {
      expect(await dev.stop('SIGTERM', 60_000)).toBe(0);
    }
  });
});
