import { readFile } from 'node:fs/promises';
import { Failure, permanent } from '../../common/failures';
import { runnerCreateRequest } from '../../common/gitlab-runners';
import type { GitlabSpec, RunnerSpec } from '../../common/stack';
import { DEFAULT_STACK_SOURCE_POLICY, GITLAB_CA_FILE_SETTING, gitlabRefusal, type StackSourcePolicy } from '../../common/stack-sources';
import { heartbeating, pause } from '../heartbeating';
import { seal } from '../sealed-box';
import { gitlabRequest } from './gitlab-http';

export interface GitlabRunner {
  readonly id: number;
  readonly description: string;
  readonly status: string;
}

/** TLS errors no retry can fix: the GitLab's certificate is not one this worker trusts. */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * GitLab's runner API (REST v4), with an access token read from this worker's environment by name: the token
 * and the runner tokens GitLab hands out stay inside these activities (a runner token leaves only sealed for
 * the box of the node that registers it). Before any request, the URL and the token's variable are checked
 * against this worker's policy (SCIOPS_GITLAB_URLS, SCIOPS_GITLAB_TOKEN*): a spec cannot send the token
 * elsewhere, not even through the plan. GitLab's answers to failed requests stay out of the messages (a
 * listed origin could still be made to fetch an internal page): the status and what to do, nothing more.
 */
export function createGitlabRunners(policy: StackSourcePolicy = DEFAULT_STACK_SOURCE_POLICY) {
  let ca: Promise<Buffer | undefined> | undefined;
  const caOf = () => {
    const file = policy.gitlabCaFile;
    ca ??=
      file === undefined
        ? Promise.resolve(undefined)
        : readFile(file).catch((err: NodeJS.ErrnoException) => {
            ca = undefined;
            throw permanent(
              Failure.runnerFailed,
              `${GITLAB_CA_FILE_SETTING}: ${file} cannot be read on the manager's worker (${err.code ?? err.message})`,
            );
          });
    return ca;
  };

  async function call<T>(gitlab: GitlabSpec, method: string, path: string, body?: unknown): Promise<{ data: T; next: string }> {
    const refusal = gitlabRefusal(gitlab, policy);
    if (refusal !== undefined) throw permanent(Failure.runnerFailed, `the manager's worker refuses to call GitLab: ${refusal}`);
    const token = process.env[gitlab.tokenEnv];
    if (token === undefined || token === '') {
      throw permanent(
        Failure.runnerFailed,
        `${gitlab.tokenEnv} is not set on the manager's worker: set it to a GitLab access token with the create_runner scope`,
      );
    }
    const url = new URL(`${gitlab.url.replace(/\/$/, '')}/api/v4${path}`);
    const res = await gitlabRequest(url, {
      method,
      headers: { 'PRIVATE-TOKEN': token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ca: await caOf(),
      timeoutMs: 30_000,
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== undefined && UNTRUSTED_CERTIFICATE.has(err.code)) {
        throw permanent(
          Failure.runnerFailed,
          `the certificate of ${url.origin} is not trusted on the manager's worker (${err.code}): set ${GITLAB_CA_FILE_SETTING} to the PEM file of its CA`,
        );
      }
      // Network errors are retried by Temporal.
      throw new Error(`GitLab at ${url.origin} cannot be reached (${err.code ?? err.name}) on ${method} ${path}`);
    });
    if (res.status === 401 || res.status === 403) {
      throw permanent(
        Failure.runnerFailed,
        `GitLab refused the token in ${gitlab.tokenEnv} (HTTP ${res.status} on ${method} ${path}): it needs the create_runner scope (and admin rights for instance runners)`,
      );
    }
    if (res.status >= 300 && res.status < 400) {
      throw permanent(
        Failure.runnerFailed,
        `GitLab answered ${method} ${path} with a redirect (HTTP ${res.status}): set gitlab.url to the address GitLab itself uses`,
      );
    }
    if (res.status >= 400 && res.status < 500 && res.status !== 404) {
      throw permanent(
        Failure.runnerFailed,
        `GitLab refused ${method} ${path} (HTTP ${res.status}): see GitLab's log for the reason (production_json.log)`,
      );
    }
    // 5xx and network errors are retried by Temporal; 404 is the caller's to read.
    if (res.status >= 500) throw new Error(`GitLab answered HTTP ${res.status} on ${method} ${path}`);
    if (res.status === 404 || res.text === '') return { data: undefined as T, next: res.nextPage };
    try {
      return { data: JSON.parse(res.text) as T, next: res.nextPage };
    } catch {
      throw permanent(
        Failure.runnerFailed,
        `GitLab answered ${method} ${path} (HTTP ${res.status}) with something other than JSON: is ${url.origin} a GitLab?`,
      );
    }
  }

  /** Every runner of a type visible to the token (instance runners through the admin listing). */
  async function listRunners(gitlab: GitlabSpec, type: RunnerSpec['type']): Promise<GitlabRunner[]> {
    const base = type === 'instance_type' ? '/runners/all' : '/runners';
    const all: GitlabRunner[] = [];
    for (let page = '1'; page !== ''; ) {
      const { data, next } = await call<GitlabRunner[]>(gitlab, 'GET', `${base}?type=${type}&per_page=100&page=${page}`);
      all.push(...(data ?? []));
      page = next;
    }
    return all;
  }

  /** The runner with this description (how sciops names a stack's runner), if GitLab has one. */
  async function byDescription(gitlab: GitlabSpec, type: RunnerSpec['type'], description: string): Promise<GitlabRunner | undefined> {
    return (await listRunners(gitlab, type)).find((r) => r.description === description);
  }

  return {
    async findGitlabRunner(input: { gitlab: GitlabSpec; type: RunnerSpec['type']; description: string }): Promise<GitlabRunner | null> {
      return (await byDescription(input.gitlab, input.type, input.description)) ?? null;
    },

    /**
     * A runner authentication token, sealed for the registering node's box: a new runner (`POST
     * /user/runners`), or a new token for the one that exists (`POST /runners/:id/reset_authentication_token`),
     * so that a retry after a lost answer never creates a second runner.
     */
    async issueRunnerToken(input: {
      gitlab: GitlabSpec;
      stack: string;
      runner: RunnerSpec;
      description: string;
      publicKey: string;
    }): Promise<{ id: number; sealed: string; created: boolean }> {
      const existing = await byDescription(input.gitlab, input.runner.type, input.description);
      if (existing !== undefined) {
        const { data } = await call<{ token: string }>(input.gitlab, 'POST', `/runners/${existing.id}/reset_authentication_token`);
        return { id: existing.id, sealed: seal(input.publicKey, data.token), created: false };
      }
      const { data } = await call<{ id: number; token: string }>(
        input.gitlab,
        'POST',
        '/user/runners',
        runnerCreateRequest(input.stack, input.runner),
      );
      return { id: data.id, sealed: seal(input.publicKey, data.token), created: true };
    },

    /** Waits until GitLab reports the runner online (it has asked for jobs). */
    async waitRunnerOnline(input: { gitlab: GitlabSpec; id: number; seconds: number }): Promise<void> {
      const deadline = Date.now() + input.seconds * 1000;
      await heartbeating({ runner: input.id }, async () => {
        for (;;) {
          const { data } = await call<GitlabRunner | undefined>(input.gitlab, 'GET', `/runners/${input.id}`);
          if (data === undefined) throw permanent(Failure.runnerFailed, `runner ${input.id} is gone from GitLab`);
          if (data.status === 'online') return;
          if (Date.now() > deadline) {
            throw permanent(
              Failure.runnerFailed,
              `runner ${input.id} (${data.description}) is ${data.status} after ${input.seconds} s: see the runner service's logs (can its container reach ${input.gitlab.url}?)`,
            );
          }
          await pause(1000);
        }
      });
    },

    /** `DELETE /runners/:id`; a runner already gone is fine. */
    async deleteGitlabRunner(input: { gitlab: GitlabSpec; id: number }): Promise<void> {
      await call(input.gitlab, 'DELETE', `/runners/${input.id}`);
    },

    /** The runners of these types whose description starts with the prefix (a stack's: `sciops:<stack>/`). */
    async listStackRunners(input: {
      gitlab: GitlabSpec;
      types: ReadonlyArray<RunnerSpec['type']>;
      prefix: string;
    }): Promise<GitlabRunner[]> {
      const all = (await Promise.all(input.types.map((t) => listRunners(input.gitlab, t)))).flat();
      return all.filter((r) => r.description.startsWith(input.prefix));
    },
  };
}

export type GitlabActivities = ReturnType<typeof createGitlabRunners>;
