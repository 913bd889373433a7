import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodecServer, payloadFromJson, payloadToJson } from '../../clients/codec-server';
import { AesGcmCodec, newCodecKey, parseCodecKeys } from '../../common/payload-encryption';

const UI = 'http://127.0.0.1:8233';
const codec = new AesGcmCodec(parseCodecKeys(newCodecKey('k1'), 'test'));
const server = createCodecServer(codec, [UI]);
let base: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

describe('sciops codec-server', () => {
  it('encodes and decodes payloads in the protocol JSON, also under a namespace segment', async () => {
    const plain = payloadToJson(defaultPayloadConverter.toPayload({ stack: 'omics' }));
    const encoded = await post('/encode', { payloads: [plain] });
    expect(encoded.status).toBe(200);
    const { payloads } = (await encoded.json()) as { payloads: Array<{ data: string }> };
    expect(Buffer.from(payloads[0]?.data ?? '', 'base64').toString()).not.toContain('omics');
    const decoded = await post('/default/decode', { payloads }, { 'x-namespace': 'default' });
    const back = (await decoded.json()) as { payloads: Parameters<typeof payloadFromJson>[0][] };
    expect(defaultPayloadConverter.fromPayload(payloadFromJson(back.payloads[0] ?? {}))).toEqual({ stack: 'omics' });
  });

  it("answers the Web UI's preflight for its origin only", async () => {
    const preflight = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const stranger = await post('/decode', { payloads: [] }, { origin: 'http://evil.example' });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses other paths (404), other methods (405), bad bodies and undecodable payloads (400)', async () => {
    expect((await post('/metrics', {})).status).toBe(404);
    expect((await fetch(`${base}/decode`)).status).toBe(405);
    expect((await post('/decode', { payloads: 'x' })).status).toBe(400);
    // proto3 JSON leaves an empty list out, as the temporal CLI sends it.
    expect(await (await post('/encode', {})).json()).toEqual({ payloads: [] });
    const other = new AesGcmCodec(parseCodecKeys(newCodecKey('k9'), 'test'));
    const [foreign] = await other.encode([defaultPayloadConverter.toPayload('secret-value')]);
    const res = await post('/decode', { payloads: [payloadToJson(foreign as NonNullable<typeof foreign>)] });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('key \\"k9\\", which is not configured');
    expect(text).not.toContain('secret-value');
  });
});
