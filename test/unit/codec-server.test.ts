import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodecAccess, createCodecServer, payloadFromJson, payloadToJson } from '../../clients/codec-server';
import { startCodecServer, stopCodecServer } from '../../clients/commands/codec';
import { AesGcmCodec, newCodecKey, parseCodecKeys } from '../../common/payload-encryption';

const UI = 'http://127.0.0.1:8233';
const TOKEN = 'a'.repeat(24) + 'b'.repeat(24);
const codec = new AesGcmCodec(parseCodecKeys(newCodecKey('k1'), 'test'));

/** A server on a free loopback port; `base` is its URL. */
function serve(access: CodecAccess) {
  const server = createCodecServer(codec, access);
  const state = { base: '', port: 0 };
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    state.port = (server.address() as AddressInfo).port;
    state.base = `http://127.0.0.1:${state.port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return state;
}

/** A raw request, so that Host can be anything (fetch does not let a caller set it). */
function raw(port: number, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const secret = () => payloadToJson(defaultPayloadConverter.toPayload({ password: 'hunter2' }));
async function encrypted() {
  const [payload] = await codec.encode([defaultPayloadConverter.toPayload({ password: 'hunter2' })]);
  return payloadToJson(payload as NonNullable<typeof payload>);
}

describe('sciops codec-server, loopback only and no token (as sciops dev runs it)', () => {
  const s = serve({ origins: [UI], hosts: [], tokens: [] });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

  it('encodes and decodes payloads in the protocol JSON, also under a namespace segment', async () => {
    const plain = payloadToJson(defaultPayloadConverter.toPayload({ stack: 'omics' }));
    const encoded = await post('/encode', { payloads: [plain] });
    expect(encoded.status).toBe(200);
    const { payloads } = (await encoded.json()) as { payloads: Array<{ data: string }> };
    expect(Buffer.from(payloads[0]?.data ?? '', 'base64').toString()).not.toContain('omics');
    const decoded = await post('/default/decode', { payloads }, { 'x-namespace': 'default', origin: UI });
    const back = (await decoded.json()) as { payloads: Parameters<typeof payloadFromJson>[0][] };
    expect(defaultPayloadConverter.fromPayload(payloadFromJson(back.payloads[0] ?? {}))).toEqual({ stack: 'omics' });
  });

  it("answers the Web UI's preflight for its origin only", async () => {
    const preflight = await fetch(`${s.base}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
  });

  it('a foreign Host (a DNS-rebinding page) gets 403 and no plaintext, before anything is decoded', async () => {
    const res = await raw(s.port, '/decode', JSON.stringify({ payloads: [await encrypted()] }), {
      'content-type': 'text/plain',
      host: `rebind.attacker.example:${s.port}`,
      origin: `http://rebind.attacker.example:${s.port}`,
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toMatch(/^Host "rebind.attacker.example" is not one/);
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain(Buffer.from('hunter2').toString('base64').slice(0, 8));
    // Nor can it mint ciphertext.
    expect((await raw(s.port, '/encode', JSON.stringify({ payloads: [secret()] }), { host: 'codec.attacker.example' })).status).toBe(403);
  });

  it('a foreign Origin gets 403, on the request and on its preflight, even with a loopback Host', async () => {
    const res = await post('/decode', { payloads: [await encrypted()] }, { origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(await res.text()).not.toContain('hunter2');
    const preflight = await fetch(`${s.base}/decode`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:9999' } });
    expect(preflight.status).toBe(403);
  });

  it('refuses other paths (404), other methods (405), bad bodies and undecodable payloads (400)', async () => {
    expect((await post('/metrics', {})).status).toBe(404);
    expect((await fetch(`${s.base}/decode`)).status).toBe(405);
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

  it('refuses to decode a payload that was never encrypted (keys are set, no migration flag)', async () => {
    const res = await post('/decode', { payloads: [secret()] });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('SCIOPS_CODEC_ACCEPT_PLAINTEXT');
  });
});

describe('sciops codec-server with bearer tokens and an allowed host', () => {
  const s = serve({ origins: ['https://temporal.example.org'], hosts: ['codec.example.org'], tokens: ['c'.repeat(40), TOKEN] });
  const call = async (headers: Record<string, string>) =>
    raw(s.port, '/decode', JSON.stringify({ payloads: [await encrypted()] }), { 'content-type': 'application/json', ...headers });

  it('no token, or a wrong one: 401 asking for a bearer token, and no plaintext', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${TOKEN.slice(1)}x` }, { authorization: `Basic ${TOKEN}` }];
    for (const headers of attempts) {
      const res = await call({ host: 'codec.example.org', ...headers });
      expect(res.status).toBe(401);
      expect(res.body).toContain('Authorization: Bearer');
      expect(res.body).not.toContain('hunter2');
    }
  });

  it('the right token, from a configured host or the UI origin: decoded', async () => {
    for (const host of ['codec.example.org', 'temporal.example.org:443', `127.0.0.1:${s.port}`]) {
      const res = await call({ host, origin: 'https://temporal.example.org', authorization: `Bearer ${TOKEN}` });
      expect(res.status, host).toBe(200);
      const [payload] = (JSON.parse(res.body) as { payloads: Parameters<typeof payloadFromJson>[0][] }).payloads;
      expect(defaultPayloadConverter.fromPayload(payloadFromJson(payload ?? {}))).toEqual({ password: 'hunter2' });
    }
    // The token does not make a foreign Host acceptable.
    expect((await call({ host: 'other.example.org', authorization: `Bearer ${TOKEN}` })).status).toBe(403);
  });

  it("answers the UI's preflight without a token (browsers send none on it)", async () => {
    const res = await fetch(`${s.base}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://temporal.example.org', 'access-control-request-headers': 'authorization' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });
});

describe('startCodecServer', () => {
  it('refuses to answer beyond loopback without tokens, naming the setting', async () => {
    for (const options of [
      { listen: '0.0.0.0:0', uiOrigin: [] },
      { listen: '127.0.0.1:0', uiOrigin: ['https://temporal.example.org'] },
      { listen: '127.0.0.1:0', uiOrigin: [], allowHost: ['codec.example.org'] },
    ]) {
      await expect(startCodecServer(codec, options)).rejects.toThrow(
        /^SCIOPS_CODEC_TOKENS_FILE: not set, and the codec server would answer beyond loopback/,
      );
    }
    await expect(startCodecServer(codec, { listen: '127.0.0.1:0', uiOrigin: [], allowHost: ['codec.example.org:443'] })).rejects.toThrow(
      /^--allow-host: /,
    );
    const { server } = await startCodecServer(codec, { listen: '0.0.0.0:0', uiOrigin: [], tokens: [TOKEN] });
    await stopCodecServer(server);
  });
});
