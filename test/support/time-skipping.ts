import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import { createInputChecks } from '../../activities/input-checks';
import { Queue } from '../../common/queues';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { loadTestbed } from './testbed';
import { failureConverterPath, workflowBundle } from './workers';

const { IndexedValueType } = temporal.api.enums.v1;

/**
 * A Temporal test server whose clock jumps ahead whenever every workflow waits on a timer: a minute's recheck
 * or an hour's time limit passes in milliseconds. Its launcher comes from scripts/temporal-test-server.sh.
 */
export async function timeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const { testServerPath } = loadTestbed();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath } },
  });
  // The workflows set sciops' search attributes, which a server must know first (`sciops dev` registers them;
  // the SDK's option for that is the dev server's only).
  const indexed = (type: SearchAttributeType) =>
    type === SearchAttributeType.KEYWORD_LIST
      ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST
      : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((key) => [key.name, indexed(key.type)])),
  });
  return env;
}

/** This test file's time-skipping server (`timeSkippingServer`): up before its tests, torn down after them. */
export function useTimeSkippingServer(): { readonly env: TestWorkflowEnvironment } {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await timeSkippingServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return {
    get env() {
      if (env === undefined) throw new Error('the time-skipping server is not up: use it inside a test');
      return env;
    },
  };
}

/**
 * Runs the real workflow code (a worker on the workflows' queue) with stubbed activities (an activity worker per
 * task queue: `activities[queue]`), for as long as `test` runs.
 */
export async function withStubbedActivities<T>(
  env: TestWorkflowEnvironment,
  activities: Record<string, object>,
  test: () => Promise<T>,
): Promise<T> {
  const connection = env.nativeConnection;
  const dataConverter = { failureConverterPath: failureConverterPath() };
  const workers = [
    await Worker.create({
      connection,
      taskQueue: Queue.workflows,
      workflowBundle: await workflowBundle(),
      // The workflows' own local activities are real: they check inputs, and touch nothing.
      activities: createInputChecks(),
      enableNonLocalActivities: false,
      dataConverter,
    }),
    ...(await Promise.all(
      Object.entries(activities).map(([taskQueue, stubs]) => Worker.create({ connection, taskQueue, activities: stubs, dataConverter })),
    )),
  ];
  const runFrom = (i: number): Promise<T> => (i === workers.length ? test() : (workers[i] as Worker).runUntil(() => runFrom(i + 1)));
  return runFrom(0);
}
