import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCodecKey } from '../../clients/commands/codec';
import { clientDataConverter, loadPayloadCodec } from '../../common/codec-keys';
import type { DoctorReport } from '../../common/doctor';
import { Failure } from '../../common/failures';
import { Queue } from '../../common/queues';
import { experimentWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { CliProcess, runCli } from '../support/cli';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';
import { historyText } from '../support/history';
import { freePort } from '../support/ports';

/** Screenshots land here, beside vitest's other output (ignored by git). */
const OUTPUT = path.resolve(__dirname, '../../test-results/web-ui');
const dir = tempDir('web-ui');
const marker = `marker-${uniqueId('ui')}`;

let dev: CliProcess;
let env: NodeJS.ProcessEnv;
let address: string;
let uiUrl: string;
let browser: Browser;
const t = useTestbed({ databases: ['sciops_web_ui'] });

beforeAll(async () => {
  const keys = path.join(dir, 'codec.keys');
  addCodecKey(keys, 'ui-test');
  // The UI listens on +1000, the codec server on +1001.
  const port = await freePort([1000, 1001]);
  address = `127.0.0.1:${port}`;
  uiUrl = `http://127.0.0.1:${port + 1000}`;
  env = {
    ...process.env,
    SCIOPS_DEV_PORT: String(port),
    SCIOPS_STATE_DIR: path.join(dir, 'state'),
    SCIOPS_CODEC_KEYS_FILE: keys,
    SCIOPS_RECOVERY_MINUTES: '0',
    SCIOPS_EXPERIMENTS_DIR: path.join(dir, 'out'),
    DATABASE_URL: t.database('sciops_web_ui').url,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
  };
  // The whole main job, as a newcomer starts it: dev server + UI wired to the codec server + workers.
  dev = new CliProcess(['--json', 'dev', '--no-demo'], env);
  await dev.waitFor(/"event":"ready"/, 120_000);
  // With --json, dev says where everything is as one JSON line; with keys set, the UI decodes through a codec server.
  expect(JSON.parse(dev.stdout.split('\n')[0] as string)).toMatchObject({
    ui: uiUrl,
    address,
    codecServer: `http://127.0.0.1:${port + 1001}`,
    queues: ['sciops', 'docker', 'db', 'aws'],
  });
  browser = await chromium.launch({
    executablePath: t.bed.chromium,
    // Flags that keep Chromium off the network it cannot reach here (see the testbed's notes).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(OUTPUT, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  expect(await dev?.stop('SIGINT', 60_000)).toBe(0);
  expect(dev.stdout.trimEnd().split('\n').at(-1)).toBe('{"event":"stopped"}');
});

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(file).toMatch(/\.png$/);
}

/** Fills the UI's Start Workflow form (the input uploaded from a file) and submits it. */
async function startFromUi(workflowType: string, workflowId: string, inputFile: string): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  try {
    await page.goto(`${uiUrl}/namespaces/default/workflows/start-workflow`);
    await page.locator('#workflowId').fill(workflowId);
    await page.locator('#taskQueue').fill(Queue.workflows);
    await page.locator('#workflowType').fill(workflowType);
    await page.locator('input[type=file]').setInputFiles(inputFile);
    await screenshot(page, `start-${workflowType}`);
    const started = page.waitForResponse((r) => r.url().includes(`/workflows/${workflowId}`) && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Start Workflow' }).click();
    expect((await started).status()).toBe(200);
  } finally {
    await page.close();
  }
}

/** A client with the test's payload keys, as the CLI builds one. */
async function withCodecClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  const codec = loadPayloadCodec(env);
  try {
    return await work(new Client({ connection, namespace: 'default', dataConverter: clientDataConverter(codec) }));
  } finally {
    await connection.close();
  }
}

describe('the Temporal Web UI with encrypted payloads', () => {
  const id = uniqueId('ui-timeout');

  it('an experiment past its soft limit: encrypted in history, filtered by state in the UI list, its input decoded there', async () => {
    const spec = {
      id,
      type: 'ui_check',
      image: 'local/busybox:1',
      command: ['sleep', '60'],
      env: { MARKER: marker },
      timeLimitSeconds: 1,
    };
    const file = path.join(dir, 'experiment.json');
    writeFileSync(file, JSON.stringify(spec));
    const submitted = await runCli(['--json', 'experiment', 'submit', file, '--wait'], env, 120_000);
    expect(submitted.code, submitted.stderr).toBe(1);
    expect(JSON.parse(submitted.stdout)).toMatchObject({ result: { id, state: 'TIMEOUT_EXCEEDED' } });

    // What the server stores: ciphertext only. A client without the key sees no input, no result, no marker.
    const history = await rawHistory(experimentWorkflowId(id));
    expect(history).not.toContain(marker);
    expect(history).not.toContain('local/busybox');
    expect(history).not.toContain('soft time limit');
    expect(history).toContain('binary/encrypted');

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      const query = `SciopsExperimentState="TIMEOUT_EXCEEDED" AND SciopsExperimentId="${id}"`;
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      const link = page.getByRole('link', { name: experimentWorkflowId(id) });
      await link.waitFor({ timeout: 30_000 });
      await screenshot(page, 'workflows-timeout-exceeded');
      await link.click();
      // The input panel shows the spec the browser decoded through the codec server.
      await page.getByText(marker).first().waitFor({ timeout: 30_000 });
      await page.getByText('TIMEOUT_EXCEEDED').first().waitFor({ timeout: 30_000 });
      await screenshot(page, 'experiment-decoded');
      // Its summary (set by the CLI) and its progress (the workflow's current details, which the UI asks the
      // workflow for with a query); the UI renders both as Markdown inside frames.
      await page.getByText('User Metadata').first().click();
      await eventually('the summary and the current details', 30_000, async () => {
        const texts = await Promise.all(
          page.frames().map((f) =>
            f
              .locator('body')
              .textContent()
              .catch(() => null),
          ),
        );
        const all = texts.join('\n');
        return all.includes(`experiment ${id} (ui_check)`) && /register: done/.test(all) && /TIMEOUT_EXCEEDED/.test(all) ? true : undefined;
      });
      await screenshot(page, 'experiment-metadata');
    } finally {
      await page.close();
    }
  });

  it('a failure message is encrypted too, and decoded by a client with the key', async () => {
    const bad = uniqueId('ui-bad');
    await withCodecClient(async (client) => {
      const handle = await client.workflow.start(WorkflowType.runExperiment, {
        taskQueue: Queue.workflows,
        workflowId: experimentWorkflowId(bad),
        args: [{ id: bad, type: 'ui_check', image: 'local/busybox:1', command: ['true'], timeLimitSeconds: -5 }],
      });
      const failure = await failureOf(handle.result());
      expect(failure.message).toMatch(/timeLimitSeconds/);
      const raw = await rawHistory(handle.workflowId);
      expect(raw).not.toContain('timeLimitSeconds');
      expect(raw).toContain('Encoded failure');
    });
  });

  it("starts a workflow from the UI's form with an example file as input, encrypted through the codec server", async () => {
    const workflowId = uniqueId('doctor-from-ui');
    await startFromUi(WorkflowType.doctor, workflowId, path.resolve(__dirname, '../../examples/doctor.json'));
    const report = await withCodecClient((client) => client.workflow.getHandle(workflowId).result());
    expect((report as DoctorReport).checks.map((c) => c.check)).toEqual(['docker', 'db', 'aws']);
    // The UI had the codec server encode the input: the server stores no plaintext of it.
    const raw = await rawHistory(workflowId);
    expect(raw).not.toContain('waitSeconds');
    expect(raw).toContain('binary/encrypted');
  });

  it('an invalid input given there fails at once with the field-named message the CLI gives', async () => {
    const id = uniqueId('ui-invalid');
    const file = path.join(dir, 'invalid.json');
    writeFileSync(file, JSON.stringify({ id, type: 'Bad Type', image: 'local/busybox:1', command: ['true'], colour: 'red' }));
    const cli = await runCli(['experiment', 'submit', file], env);
    expect(cli.code).toBe(2);
    const cliIssues = cli.stderr.trim().replace(`sciops: invalid experiment spec ${file}: `, '');
    expect(cliIssues).toMatch(/^type: .*colour: unknown field/);

    await startFromUi(WorkflowType.runExperiment, experimentWorkflowId(id), file);
    await withCodecClient(async (client) => {
      const failure = await failureOf(client.workflow.getHandle(experimentWorkflowId(id)).result());
      expect(failure.type).toBe(Failure.invalidInput);
      expect(failure.message).toBe(`invalid experiment spec: ${cliIssues}`);
    });
  });
});

/** A workflow's history as stored, read by a client without any key. */
async function rawHistory(workflowId: string): Promise<string> {
  const connection = await Connection.connect({ address });
  try {
    return await historyText(new Client({ connection, namespace: 'default' }).workflow.getHandle(workflowId));
  } finally {
    await connection.close();
  }
}
