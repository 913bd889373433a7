import { type RunnerSpec, runnerDescription } from './stack';

/** Where gitlab-runner keeps its runners when it runs as root (its default). */
export const RUNNER_CONFIG_FILE = '/etc/gitlab-runner/config.toml';

/**
 * The runners a gitlab-runner config.toml holds: each `[[runners]]` table's name and id (tokens are never
 * read out). Only the keys at the table's top level count, not those of sub-tables like [runners.docker]. Pure.
 */
export function registeredRunners(toml: string): Array<{ name: string; id?: number }> {
  const found: Array<{ name: string; id?: number }> = [];
  let current: { name: string; id?: number } | undefined;
  let inRunner = false;
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inRunner = line === '[[runners]]';
      if (inRunner) {
        current = { name: '' };
        found.push(current);
      }
      continue;
    }
    if (!inRunner || current === undefined) continue;
    const match = /^(name|id)\s*=\s*"?([^"]*)"?\s*$/.exec(line);
    if (match?.[1] === 'name') current.name = match[2] as string;
    if (match?.[1] === 'id' && /^\d+$/.test(match[2] as string)) current.id = Number(match[2]);
  }
  return found;
}

/** The body of GitLab's `POST /user/runners` for a stack's runner. Pure. */
export function runnerCreateRequest(stack: string, runner: RunnerSpec): Record<string, unknown> {
  return {
    runner_type: runner.type,
    ...(runner.groupId === undefined ? {} : { group_id: runner.groupId }),
    ...(runner.projectId === undefined ? {} : { project_id: runner.projectId }),
    description: runnerDescription(stack, runner.name),
    tag_list: runner.tags,
    run_untagged: runner.runUntagged,
  };
}

/** The `gitlab-runner register` command line; the token goes in CI_SERVER_TOKEN, never on a command line. Pure. */
export function registerCommand(input: { url: string; name: string; executor: string; dockerImage?: string }): string[] {
  return [
    'gitlab-runner',
    'register',
    '--non-interactive',
    '--url',
    input.url,
    '--executor',
    input.executor,
    '--name',
    input.name,
    ...(input.dockerImage === undefined ? [] : ['--docker-image', input.dockerImage]),
  ];
}
