import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';

/** A payload as the codec protocol carries it: proto3 JSON, every bytes field base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const ROUTE = /^(?:\/[^/]+)?\/(encode|decode)$/;

export function payloadFromJson(json: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(json.metadata ?? {})) metadata[key] = Buffer.from(value, 'base64');
  return { metadata, data: Buffer.from(json.data ?? '', 'base64') };
}

export function payloadToJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) metadata[key] = Buffer.from(value).toString('base64');
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Who may use the codec server. */
export interface CodecAccess {
  /** Web UI origins (`http://host:port`) whose pages may call it; any other Origin is refused. */
  readonly origins: readonly string[];
  /** Host names it answers to besides loopback (and the origins' hosts); any other Host is refused. */
  readonly hosts: readonly string[];
  /** Bearer tokens it accepts; none: no token asked (only for a server on loopback, see startCodecServer). */
  readonly tokens: readonly string[];
}

/** Whether a host name (no port) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** The host name of a Host header value (`name:port`, `[v6]:port`), lower-case. */
function hostName(header: string): string {
  const text = header.trim().toLowerCase();
  if (text.startsWith('[')) return text.slice(0, text.indexOf(']') + 1);
  const colon = text.lastIndexOf(':');
  return colon < 0 ? text : text.slice(0, colon);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Decides a request from its headers, before its body is read: Host must be loopback, a configured host or a
 * UI origin's host (a page that rebinds its own name to 127.0.0.1 still sends its own Host); Origin, when a
 * browser sends one, must be a configured UI origin; with tokens configured, `Authorization: Bearer <token>`
 * must carry one of them (compared in constant time). Pure. Undefined: allowed.
 */
export function refusal(
  headers: IncomingHttpHeaders,
  access: CodecAccess,
  preflight: boolean,
): { status: 401 | 403; error: string } | undefined {
  const host = headers.host === undefined ? '' : hostName(headers.host);
  const allowedHosts = [...access.hosts, ...access.origins.map((o) => hostName(new URL(o).host))].map((h) => h.toLowerCase());
  if (host === '' || !(isLoopbackHost(host) || allowedHosts.includes(host))) {
    return {
      status: 403,
      error: `Host "${host.slice(0, 100)}" is not one this codec server answers to: call it by a loopback address or a --allow-host name`,
    };
  }
  const origin = headers.origin;
  if (origin !== undefined && !access.origins.includes(origin)) {
    return { status: 403, error: `Origin "${origin.slice(0, 100)}" may not call this codec server: add it with --ui-origin` };
  }
  if (preflight || access.tokens.length === 0) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  const given = digest(match?.[1] ?? '');
  let ok = false;
  for (const token of access.tokens) ok = timingSafeEqual(given, digest(token)) || ok;
  if (!ok) {
    const what = match === null ? 'no bearer token' : 'a bearer token it does not know';
    return { status: 401, error: `${what}: send Authorization: Bearer <a token of SCIOPS_CODEC_TOKENS_FILE>` };
  }
  return undefined;
}

/**
 * The Temporal codec server protocol over `codec`: `POST /encode` and `POST /decode` (also under a namespace
 * segment, `/{namespace}/decode`, as the CLI's endpoint templating sends them), each taking and answering
 * `{"payloads": [...]}`. Every request is first checked against `access` (403 for a foreign Host or Origin,
 * 401 without a known token when tokens are configured), so nothing is decoded for a stranger. Browsers from
 * the UI origins get CORS with credentials, preflight answered. Other paths answer 404, other methods 405;
 * errors never echo a payload.
 */
export function createCodecServer(codec: PayloadCodec, access: CodecAccess): Server {
  return createServer(async (req, res) => {
    const origin = req.headers.origin;
    if (origin !== undefined && access.origins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('vary', 'origin');
    }
    const refused = refusal(req.headers, access, req.method === 'OPTIONS');
    if (refused !== undefined) {
      req.resume();
      return send(
        res,
        refused.status,
        { error: refused.error },
        refused.status === 401 ? { 'www-authenticate': 'Bearer realm="sciops codec"' } : {},
      );
    }
    const route = ROUTE.exec(new URL(req.url ?? '/', 'http://codec').pathname)?.[1];
    if (route === undefined) return send(res, 404, { error: 'not found: POST /encode or /decode' });
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      return res.end();
    }
    if (req.method !== 'POST') return send(res, 405, { error: `${req.method} is not allowed: POST a {"payloads": [...]} body` });
    let payloads: Payload[];
    try {
      // proto3 JSON leaves an empty list out: `{}` is zero payloads.
      const body = JSON.parse(await readBody(req)) as { payloads?: unknown };
      const list = body.payloads ?? [];
      if (!Array.isArray(list)) throw new Error('"payloads" is not an array');
      payloads = (list as JsonPayload[]).map(payloadFromJson);
    } catch (err) {
      return send(res, 400, { error: `the body is not {"payloads": [...]}: ${(err as Error).message}` });
    }
    try {
      const out = route === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      send(res, 200, { payloads: out.map(payloadToJson) });
    } catch (err) {
      send(res, 400, { error: (err as Error).message });
    }
  });
}
