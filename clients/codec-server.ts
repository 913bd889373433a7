import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * The Temporal codec server protocol over `codec`: `POST /encode` and `POST /decode` (also under a namespace
 * segment, `/{namespace}/decode`, as the CLI's endpoint templating sends them), each taking and answering
 * `{"payloads": [...]}`. Browsers from `origins` (the Web UI) may call it: CORS with credentials, preflight
 * answered. Other paths answer 404, other methods 405; errors never echo a payload.
 */
export function createCodecServer(codec: PayloadCodec, origins: readonly string[]): Server {
  return createServer(async (req, res) => {
    const origin = req.headers.origin;
    if (origin !== undefined && origins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('vary', 'origin');
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
