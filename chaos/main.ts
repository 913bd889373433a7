/**
 * The seeded crash suite: `npm run chaos [-- --trials N --seed S --scenarios a,b]`. Each trial runs one
 * scenario (deploy, backup, restore, a restore of a broken dump, an experiment) against the testbed, SIGKILLs
 * the worker holding one of its activities at a moment the seed picks, starts that worker again, and checks
 * the invariants against the engines and the database. Prints every trial and violation; exits 1 on any.
 */
import { parseArgs } from 'node:util';
import { pickKillMoment } from './kill-moment';
import { appBack, nothingLeftRunning, verifyDatabases } from './left-running';
import { seeded, trialRandom } from './random';
import { backupScenario } from './scenarios/backup';
import { deployScenario } from './scenarios/deploy';
import { experimentScenario } from './scenarios/experiment';
import { brokenRestoreScenario, restoreScenario } from './scenarios/restore';
import type { Scenario, Trial } from './trial';
import { closeWorld, openWorld, type World } from './world';

const SCENARIOS: readonly Scenario[] = [deployScenario, backupScenario, restoreScenario, brokenRestoreScenario, experimentScenario];

function options(): { trials: number; seed: number; scenarios: Scenario[] } {
  const { values } = parseArgs({
    options: { trials: { type: 'string', default: '10' }, seed: { type: 'string' }, scenarios: { type: 'string' } },
    strict: true,
  });
  const trials = Number(values.trials);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials: a positive whole number, not "${values.trials}"`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed: a whole number >= 0, not "${values.seed}"`);
  const names = values.scenarios?.split(',') ?? SCENARIOS.map((s) => s.name);
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(`--scenarios: no scenario ${unknown.join(', ')} (there are ${SCENARIOS.map((s) => s.name).join(', ')})`);
  return { trials, seed, scenarios: SCENARIOS.filter((s) => names.includes(s.name)) };
}

/** The scenario of each trial: every block of trials runs each scenario once, in an order the seed shuffles. Pure. */
export function scenarioOrder(seed: number, trials: number, scenarios: readonly Scenario[]): Scenario[] {
  const random = seeded(seed);
  const order: Scenario[] = [];
  while (order.length < trials) order.push(...random.shuffled(scenarios));
  return order.slice(0, trials);
}

/** Terminates the workflows a trial left open, so that the next trial starts from nothing running. */
async function terminateOpen(world: World): Promise<void> {
  for await (const w of world.env.client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
    await world.env.client.workflow
      .getHandle(w.workflowId, w.runId)
      .terminate('left open by a crash trial')
      .catch(() => undefined);
  }
}

async function runTrial(world: World, seed: number, number: number, scenario: Scenario): Promise<string[]> {
  const random = trialRandom(seed, number);
  const trial: Trial = {
    number,
    random,
    name: `${world.stamp}-${number}`,
    since: Date.now(),
    moment: pickKillMoment(random, scenario.activities),
  };
  const verifyBefore = await verifyDatabases(world);
  let violations: string[];
  let line: string;
  try {
    const outcome = await scenario.run(world, trial);
    violations = [...outcome.violations, ...(await appBack(world)), ...(await nothingLeftRunning(world, outcome.kill, verifyBefore))];
    line = `${outcome.kill.text}; ${outcome.text}`;
  } catch (err) {
    violations = [`the trial itself failed: ${(err as Error).stack ?? String(err)}`];
    line = 'did not finish';
  }
  await terminateOpen(world);
  const seconds = ((Date.now() - trial.since) / 1000).toFixed(0);
  console.log(
    `trial ${number} ${scenario.name}: ${line} (${seconds} s): ${violations.length === 0 ? 'ok' : `${violations.length} VIOLATIONS`}`,
  );
  for (const v of violations) console.log(`  violation: ${v}`);
  return violations;
}

async function main(): Promise<number> {
  const { trials, seed, scenarios } = options();
  console.log(`chaos: ${trials} trials, seed ${seed} (run again with --seed ${seed})`);
  const world = await openWorld();
  let violations = 0;
  try {
    const order = scenarioOrder(seed, trials, scenarios);
    for (const [i, scenario] of order.entries()) violations += (await runTrial(world, seed, i + 1, scenario)).length;
  } finally {
    await closeWorld(world, violations > 0);
  }
  console.log(`chaos: ${trials} trials, seed ${seed}: ${violations} violations${violations > 0 ? `; worker log: ${world.workerLog}` : ''}`);
  return violations > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error('chaos failed:', err);
      process.exit(2);
    },
  );
}
