import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { payloadFromJson, payloadToJson } from '../../clients/codec-server';
import { addCodecKey } from '../../clients/commands/codec';
import { loadCodecTokens, loadPayloadCodec } from '../../common/codec-keys';
import { ConfigError } from '../../common/errors';
import { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, newCodecKey, parseCodecKeys } from '../../common/payload-encryption';

const secretInput = { name: 'omics', password: 'do-not-leak-4711' };
const plain = () => defaultPayloadConverter.toPayload(secretInput);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no ConfigError');
}

describe('AesGcmCodec', () => {
  const k1 = newCodecKey('k1');
  const k2 = newCodecKey('k2');

  it('encrypts metadata and data under the first key, naming it, and decrypts back to the same payload', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`${k1}\n${k2}`, 'test'));
    const [encoded] = await codec.encode([plain()]);
    expect(text(encoded?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded?.metadata?.[KEY_ID_METADATA])).toBe('k1');
    expect(text(encoded?.data)).not.toContain('do-not-leak');
    expect(text(encoded?.data)).not.toContain('json/plain');
    const [decoded] = await codec.decode([encoded as NonNullable<typeof encoded>]);
    expect(defaultPayloadConverter.fromPayload(decoded as NonNullable<typeof decoded>)).toEqual(secretInput);
  });

  it('uses a fresh IV each time: the same payload never encrypts the same way twice', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(k1, 'test'));
    const [a, b] = await codec.encode([plain(), plain()]);
    expect(text(a?.data)).not.toBe(text(b?.data));
  });

  it('rotation: after a new key is put first, payloads of the old key still decrypt and new ones use the new key', async () => {
    const before = new AesGcmCodec(parseCodecKeys(k1, 'test'));
    const [old] = await before.encode([plain()]);
    const after = new AesGcmCodec(parseCodecKeys(`${k2},${k1}`, 'test'));
    const [fresh] = await after.encode([plain()]);
    expect(text(fresh?.metadata?.[KEY_ID_METADATA])).toBe('k2');
    const decoded = await after.decode([old, fresh] as NonNullable<typeof old>[]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([secretInput, secretInput]);
  });

  it('refuses a payload whose key is missing, and one that was altered, without leaking its content', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(k1, 'test'));
    const [encoded] = await codec.encode([plain()]);
    const other = new AesGcmCodec(parseCodecKeys(k2, 'test'));
    await expect(other.decode([encoded as NonNullable<typeof encoded>])).rejects.toThrow(/key "k1", which is not configured/);
    const data = Buffer.from(encoded?.data as Uint8Array);
    data[20] = (data[20] as number) ^ 1;
    await expect(codec.decode([{ ...encoded, data }])).rejects.toThrow(/does not authenticate with key "k1"/);
    // The key id is authenticated too: relabelling a payload with another configured key fails.
    const both = new AesGcmCodec(parseCodecKeys(`${k2}\n${k1}`, 'test'));
    const relabelled = { ...encoded, metadata: { ...encoded?.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(both.decode([relabelled])).rejects.toThrow(/does not authenticate/);
  });

  it('refuses a payload that was never encrypted, naming the migration setting and not its content', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(k1, 'test'));
    const [encoded] = await codec.encode([plain()]);
    const attempt = codec.decode([encoded as NonNullable<typeof encoded>, plain()]);
    await expect(attempt).rejects.toThrow(/^a payload is not encrypted \(encoding "json\/plain"\) although payload keys are set/);
    await expect(codec.decode([plain()])).rejects.toThrow(/SCIOPS_CODEC_ACCEPT_PLAINTEXT=true/);
    await expect(codec.decode([plain()])).rejects.not.toThrow(/do-not-leak/);
    await expect(codec.decode([{ data: plain().data }])).rejects.toThrow(/\(no encoding\)/);
  });

  it('passes payloads that were never encrypted through decode unchanged with the migration flag', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(k1, 'test'), { acceptPlaintext: true });
    const payload = plain();
    expect(await codec.decode([payload])).toEqual([payload]);
  });
});

describe('parseCodecKeys', () => {
  it('names the setting and the key, never the key material', () => {
    const short = `k1:${Buffer.alloc(16, 7).toString('base64')}`;
    const err = configError(() => parseCodecKeys(short, 'SCIOPS_CODEC_KEYS'));
    expect(err.message).toMatch(/^SCIOPS_CODEC_KEYS: key 1 \("k1"\) is not 32 bytes/);
    expect(err.message).not.toContain(short.slice(3));
    expect(configError(() => parseCodecKeys('# only a comment\n', 'F')).message).toMatch(/holds no key/);
    expect(configError(() => parseCodecKeys(Buffer.alloc(32).toString('base64'), 'F')).message).toMatch(/key 1 has no id/);
    const k = newCodecKey('same');
    expect(configError(() => parseCodecKeys(`${k}\n${k}`, 'F')).message).toMatch(/used twice/);
  });
});

describe('loadPayloadCodec', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sciops-keys-'));

  it('is off without keys, and reads SCIOPS_CODEC_KEYS or a 0600 keys file', () => {
    expect(loadPayloadCodec({})).toBeUndefined();
    expect(loadPayloadCodec({ SCIOPS_CODEC_KEYS: newCodecKey('inline') })?.keyIds).toEqual(['inline']);
    const file = path.join(dir, 'keys');
    addCodecKey(file, 'first');
    addCodecKey(file, 'second');
    expect(loadPayloadCodec({ SCIOPS_CODEC_KEYS_FILE: file })?.keyIds).toEqual(['second', 'first']);
  });

  it('reads SCIOPS_CODEC_ACCEPT_PLAINTEXT: off unless true, and a typo stops the start', async () => {
    const key = newCodecKey('inline');
    expect(loadPayloadCodec({ SCIOPS_CODEC_KEYS: key })?.acceptsPlaintext).toBe(false);
    expect(loadPayloadCodec({ SCIOPS_CODEC_KEYS: key, SCIOPS_CODEC_ACCEPT_PLAINTEXT: 'false' })?.acceptsPlaintext).toBe(false);
    const migrating = loadPayloadCodec({ SCIOPS_CODEC_KEYS: key, SCIOPS_CODEC_ACCEPT_PLAINTEXT: 'true' });
    expect(await migrating?.decode([plain()])).toEqual([plain()]);
    await expect(loadPayloadCodec({ SCIOPS_CODEC_KEYS: key })?.decode([plain()])).rejects.toThrow(/not encrypted/);
    expect(configError(() => loadPayloadCodec({ SCIOPS_CODEC_KEYS: key, SCIOPS_CODEC_ACCEPT_PLAINTEXT: 'yes' })).message).toBe(
      'SCIOPS_CODEC_ACCEPT_PLAINTEXT: "yes" is not true or false',
    );
  });

  it('reads the codec server tokens from SCIOPS_CODEC_TOKENS_FILE (0600) or SCIOPS_CODEC_TOKENS', () => {
    const good = 'f'.repeat(64);
    expect(loadCodecTokens({})).toBeUndefined();
    expect(loadCodecTokens({ SCIOPS_CODEC_TOKENS: `${good}, ${'e'.repeat(32)}` })).toEqual([good, 'e'.repeat(32)]);
    const file = path.join(dir, 'tokens');
    writeFileSync(file, `# the UI's proxy\n${good}\n`, { mode: 0o600 });
    expect(loadCodecTokens({ SCIOPS_CODEC_TOKENS_FILE: file })).toEqual([good]);
    chmodSync(file, 0o640);
    expect(configError(() => loadCodecTokens({ SCIOPS_CODEC_TOKENS_FILE: file })).message).toMatch(
      /^SCIOPS_CODEC_TOKENS_FILE: .*chmod 600/,
    );
    const short = configError(() => loadCodecTokens({ SCIOPS_CODEC_TOKENS: 'short-token' }));
    expect(short.message).toMatch(/^SCIOPS_CODEC_TOKENS: token 1 is not 32 to 512 printable characters/);
    expect(short.message).not.toContain('short-token');
  });

  it('refuses a keys file others can read, both settings at once, and a missing file', () => {
    const file = path.join(dir, 'open');
    writeFileSync(file, `${newCodecKey('a')}\n`);
    chmodSync(file, 0o644);
    expect(configError(() => loadPayloadCodec({ SCIOPS_CODEC_KEYS_FILE: file })).message).toMatch(/chmod 600/);
    expect(configError(() => loadPayloadCodec({ SCIOPS_CODEC_KEYS_FILE: file, SCIOPS_CODEC_KEYS: newCodecKey('b') })).message).toMatch(
      /unset one of them/,
    );
    expect(configError(() => loadPayloadCodec({ SCIOPS_CODEC_KEYS_FILE: path.join(dir, 'none') })).message).toMatch(/ENOENT/);
  });

  it('codec-key add refuses an id already in the file and leaves the file as it was', () => {
    const file = path.join(dir, 'dup');
    addCodecKey(file, 'one');
    const before = loadPayloadCodec({ SCIOPS_CODEC_KEYS_FILE: file })?.keyIds;
    expect(configError(() => addCodecKey(file, 'one')).message).toMatch(/already in/);
    expect(loadPayloadCodec({ SCIOPS_CODEC_KEYS_FILE: file })?.keyIds).toEqual(before);
  });
});

describe('codec protocol JSON', () => {
  it('carries every bytes field as base64, both ways', () => {
    const payload = plain();
    const json = payloadToJson(payload);
    expect(json.metadata?.encoding).toBe(Buffer.from('json/plain').toString('base64'));
    expect(payloadFromJson(json)).toEqual({
      metadata: { encoding: Buffer.from('json/plain') },
      data: Buffer.from(payload.data as Uint8Array),
    });
  });
});
