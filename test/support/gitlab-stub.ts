import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A stand-in for GitLab, for tests only (GitLab cannot run on these machines). It answers the REST API v4
 * requests sciops and a runner make, as GitLab documents them:
 * - users (header PRIVATE-TOKEN, a personal access token):
 *   `POST /user/runners` (runner_type required; group_id / project_id for group and project runners;
 *   description, paused, locked, run_untagged, tag_list) -> 201 `{id, token: "glrt-...", token_expires_at}`;
 *   `GET /runners` and `GET /runners/all` (filter `type`, pagination `page`/`per_page` with `X-Next-Page`);
 *   `GET /runners/:id` (with `status`: online, offline, never_contacted; `online`); `DELETE /runners/:id` ->
 *   204; `POST /runners/:id/reset_authentication_token` -> 201 `{token, token_expires_at}`.
 * - runners (their authentication token in the body): `POST /runners/verify` -> 200 `{id, token,
 *   token_expires_at}`, 403 for an unknown token; `POST /jobs/request` -> 204 (no job), which records the
 *   contact that makes the runner online.
 * Anything else -> 404, and is recorded so a test sees it.
 */
export interface StubRunner {
  id: number;
  description: string;
  runner_type: string;
  group_id?: number;
  project_id?: number;
  tag_list: string[];
  run_untagged: boolean;
  paused: boolean;
  locked: boolean;
  token: string;
  contacted_at?: string;
}

export interface GitlabStub {
  readonly url: string;
  readonly runners: Map<number, StubRunner>;
  /** Every request, as `METHOD /path` (without the query). */
  readonly requests: string[];
  close(): Promise<void>;
}

const ONLINE_MS = 2 * 60 * 60 * 1000; // GitLab: online when it contacted GitLab in the last 2 hours

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  if (text === '') return {};
  if ((req.headers['content-type'] ?? '').includes('json')) return JSON.parse(text) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(text));
}

function status(r: StubRunner): string {
  if (r.contacted_at === undefined) return 'never_contacted';
  return Date.now() - Date.parse(r.contacted_at) < ONLINE_MS ? 'online' : 'offline';
}

const summary = (r: StubRunner) => ({
  id: r.id,
  description: r.description,
  ip_address: null,
  active: !r.paused,
  paused: r.paused,
  is_shared: r.runner_type === 'instance_type',
  runner_type: r.runner_type,
  name: 'gitlab-runner',
  online: status(r) === 'online',
  status: status(r),
});

/**
 * A self-signed certificate for `address` (an IP), in `dir`: `caFile` is what a client trusts. RSA, served with
 * TLS 1.2 at most and OpenSSL's older ciphers too: busybox's wget (in the runner stand-in) has nothing newer.
 */
export function selfSignedCertificate(dir: string, address: string): { key: Buffer; cert: Buffer; caFile: string } {
  const keyFile = path.join(dir, 'gitlab-stub.key');
  const caFile = path.join(dir, 'gitlab-stub.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=gitlab-stub',
      '-addext',
      `subjectAltName=IP:${address}`,
      '-keyout',
      keyFile,
      '-out',
      caFile,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { key: readFileSync(keyFile), cert: readFileSync(caFile), caFile };
}

/**
 * Starts the stub on `host` (all interfaces by default, so containers reach it) and a free port; over https
 * when `tls` is given (GitLab's URL must be https unless it is on loopback).
 */
export async function startGitlabStub(options: {
  accessToken: string;
  host?: string;
  advertise: string;
  tls?: { key: Buffer; cert: Buffer };
}): Promise<GitlabStub> {
  const runners = new Map<number, StubRunner>();
  const requests: string[] = [];
  let nextId = 41;
  const newToken = () => `glrt-${randomBytes(15).toString('base64url')}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const route = `${req.method} ${url.pathname}`;
    requests.push(route);
    const path = url.pathname.replace(/^\/api\/v4/, '');
    const body = await bodyOf(req);

    // The runner API: authenticated by the runner's token in the body.
    if (req.method === 'POST' && (path === '/runners/verify' || path === '/jobs/request')) {
      const runner = [...runners.values()].find((r) => r.token === body.token);
      if (runner === undefined) return send(res, 403, { message: '403 Forbidden' });
      if (path === '/runners/verify') return send(res, 200, { id: runner.id, token: runner.token, token_expires_at: null });
      runner.contacted_at = new Date().toISOString();
      return send(res, 204);
    }

    const given = req.headers['private-token'] ?? req.headers.authorization?.replace(/^Bearer /, '');
    if (given !== options.accessToken) return send(res, 401, { message: '401 Unauthorized' });

    if (req.method === 'POST' && path === '/user/runners') {
      const type = String(body.runner_type ?? '');
      if (type === '') return send(res, 400, { error: 'runner_type is missing' });
      if (!['instance_type', 'group_type', 'project_type'].includes(type))
        return send(res, 400, { error: 'runner_type does not have a valid value' });
      if (type === 'group_type' && body.group_id === undefined) return send(res, 400, { message: 'group_id is required' });
      if (type === 'project_type' && body.project_id === undefined) return send(res, 400, { message: 'project_id is required' });
      const tags = body.tag_list;
      const runner: StubRunner = {
        id: nextId++,
        description: String(body.description ?? ''),
        runner_type: type,
        ...(body.group_id === undefined ? {} : { group_id: Number(body.group_id) }),
        ...(body.project_id === undefined ? {} : { project_id: Number(body.project_id) }),
        tag_list: Array.isArray(tags) ? tags.map(String) : typeof tags === 'string' && tags !== '' ? tags.split(',') : [],
        run_untagged: body.run_untagged === undefined ? true : body.run_untagged === true || body.run_untagged === 'true',
        paused: body.paused === true || body.paused === 'true',
        locked: body.locked === true || body.locked === 'true',
        token: newToken(),
      };
      runners.set(runner.id, runner);
      return send(res, 201, { id: runner.id, token: runner.token, token_expires_at: null });
    }

    if (req.method === 'GET' && (path === '/runners' || path === '/runners/all')) {
      const type = url.searchParams.get('type');
      const all = [...runners.values()].filter((r) => type === null || r.runner_type === type);
      const perPage = Number(url.searchParams.get('per_page') ?? 20);
      const page = Number(url.searchParams.get('page') ?? 1);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const next = page * perPage < all.length ? String(page + 1) : '';
      return send(res, 200, slice.map(summary), { 'X-Next-Page': next, 'X-Page': String(page), 'X-Total': String(all.length) });
    }

    const one = /^\/runners\/(\d+)(\/reset_authentication_token)?$/.exec(path);
    const runner = one === null ? undefined : runners.get(Number(one[1]));
    if (one !== null && runner === undefined) return send(res, 404, { message: '404 Runner Not Found' });
    if (runner !== undefined && one?.[2] === undefined && req.method === 'GET') {
      return send(res, 200, {
        ...summary(runner),
        tag_list: runner.tag_list,
        run_untagged: runner.run_untagged,
        locked: runner.locked,
        contacted_at: runner.contacted_at ?? null,
      });
    }
    if (runner !== undefined && one?.[2] === undefined && req.method === 'DELETE') {
      runners.delete(runner.id);
      return send(res, 204);
    }
    if (runner !== undefined && one?.[2] !== undefined && req.method === 'POST') {
      runner.token = newToken();
      return send(res, 201, { token: runner.token, token_expires_at: null });
    }
    return send(res, 404, { error: '404 Not Found' });
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }));
  };
  const server: Server =
    options.tls === undefined
      ? createServer(handler)
      : createTlsServer({ ...options.tls, maxVersion: 'TLSv1.2', ciphers: 'DEFAULT:@SECLEVEL=0' }, handler);
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '0.0.0.0', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${options.advertise}:${port}`,
    runners,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
