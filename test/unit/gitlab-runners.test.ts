import { describe, expect, it } from 'vitest';
import { registerCommand, registeredRunners, runnerCreateRequest } from '../../common/gitlab-runners';
import { stackSpecSchema } from '../../common/stack';

const CONFIG = `concurrent = 4
check_interval = 0

[[runners]]
  name = "sciops:neuro/imaging-ci"
  url = "https://gitlab.example.org"
  id = 17
  token = "glrt-secret"
  executor = "docker"
  [runners.docker]
    image = "busybox"
    name = "not-a-runner-name"

[[runners]]
  name = "hand-made"
  url = "https://gitlab.example.org"
  token = "glrt-other"
  executor = "shell"
`;

describe('gitlab-runner config and requests', () => {
  it('reads each [[runners]] name and id, not keys of sub-tables, and never a token', () => {
    expect(registeredRunners(CONFIG)).toEqual([{ name: 'sciops:neuro/imaging-ci', id: 17 }, { name: 'hand-made' }]);
    expect(JSON.stringify(registeredRunners(CONFIG))).not.toContain('glrt');
    expect(registeredRunners('')).toEqual([]);
  });

  it("builds GitLab's POST /user/runners body and the register command line, without the token", () => {
    const spec = stackSpecSchema.parse({
      name: 'neuro',
      services: [{ name: 'ci', image: 'i' }],
      gitlab: { url: 'https://gitlab.example.org' },
      runners: [{ name: 'imaging-ci', service: 'ci', type: 'group_type', groupId: 9, executor: 'shell', tags: ['mri'] }],
    });
    const runner = spec.runners[0] as (typeof spec.runners)[0];
    expect(runnerCreateRequest('neuro', runner)).toEqual({
      runner_type: 'group_type',
      group_id: 9,
      description: 'sciops:neuro/imaging-ci',
      tag_list: ['mri'],
      run_untagged: false,
    });
    expect(registerCommand({ url: 'https://g', name: 'sciops:neuro/imaging-ci', executor: 'docker', dockerImage: 'alpine:3' })).toEqual([
      'gitlab-runner',
      'register',
      '--non-interactive',
      '--url',
      'https://g',
      '--executor',
      'docker',
      '--name',
      'sciops:neuro/imaging-ci',
      '--docker-image',
      'alpine:3',
    ]);
  });
});
