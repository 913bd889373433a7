import { type GitlabSpec, type RunnerSpec, resourceName, runnerDescription, type StackSpec } from '../common/stack';
import type { PlannedChange } from '../common/stack-plan';
import { gitlab, manager, taskEngine } from './stack-activities';

export interface Undo {
  readonly what: string;
  readonly run: () => Promise<void>;
}

/**
 * One runner of the stack, as the runbook registers it by hand: GitLab creates it (`POST /user/runners`,
 * described `sciops:<stack>/<name>`), `gitlab-runner register` runs in a task of the runner service with the
 * token GitLab returned, and GitLab must then see it online. The token travels sealed for a box the runner
 * container's node opened. A runner that GitLab has and the container has registered under the same id is
 * left alone; one the container lacks (a new task) gets a fresh token for the same GitLab runner.
 */
export async function ensureRunner(
  spec: StackSpec,
  lab: GitlabSpec,
  runner: RunnerSpec,
  self: string,
  undo: Undo[],
): Promise<PlannedChange> {
  const description = runnerDescription(spec.name, runner.name);
  const task = await manager.findServiceTask({ service: resourceName(spec.name, runner.service) });
  const engine = taskEngine(task, self);
  const [registered, existing] = await Promise.all([
    engine.runnerRegistration({ containerId: task.containerId, name: description }),
    gitlab.findGitlabRunner({ gitlab: lab, type: runner.type, description }),
  ]);
  let id = existing?.id;
  let change: PlannedChange['change'] = 'unchanged';
  if (existing === null || registered.id !== existing.id) {
    const box = await engine.openSealedBox();
    const issued = await gitlab.issueRunnerToken({ gitlab: lab, stack: spec.name, runner, description, publicKey: box.publicKey });
    if (issued.created)
      undo.unshift({ what: `GitLab runner ${issued.id}`, run: () => gitlab.deleteGitlabRunner({ gitlab: lab, id: issued.id }) });
    await engine.registerRunner({
      containerId: task.containerId,
      keyId: box.keyId,
      sealed: issued.sealed,
      url: lab.url,
      name: description,
      executor: runner.executor,
      dockerImage: runner.dockerImage,
    });
    id = issued.id;
    change = issued.created ? 'create' : 'update';
  }
  await gitlab.waitRunnerOnline({ gitlab: lab, id: id as number, seconds: runner.onlineSeconds });
  return { kind: 'runner', name: runner.name, change };
}

/** Teardown: deletes the stack's runners in GitLab (found by description) and the record of where they are. */
export async function removeStackRunners(stack: string): Promise<string[]> {
  const record = await manager.stackGitlabRecord({ stack });
  if (record === null) return [];
  const found = await gitlab.listStackRunners({ gitlab: record.gitlab, types: record.types, prefix: runnerDescription(stack, '') });
  for (const r of found) await gitlab.deleteGitlabRunner({ gitlab: record.gitlab, id: r.id });
  await manager.removeStackGitlabRecord({ stack });
  return found.map((r) => `runner ${r.description} (GitLab #${r.id})`);
}
