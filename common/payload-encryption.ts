import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ConfigError } from './errors';

/** The `encoding` metadata of an encrypted payload (what Temporal's samples use). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key a payload was encrypted with, so older keys keep decrypting after a rotation. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface CodecKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * Parses keys written one per line (or comma-separated) as `id:base64-of-32-bytes`; `#` starts a comment.
 * The FIRST key encrypts; every key decrypts. Rotation: put a new key first, keep the old ones below it until
 * no history that needs them is retained. Throws a ConfigError naming `setting` and the line, never the key.
 */
export function parseCodecKeys(text: string, setting: string): CodecKey[] {
  const entries = text
    .split(/[\n,]/)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
  if (entries.length === 0) throw new ConfigError(setting, 'holds no key; write one `id:base64` per line (see `sciops codec-key`)');
  const keys: CodecKey[] = [];
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const where = `key ${index + 1}${KEY_ID.test(id) ? ` ("${id}")` : ''}`;
    if (!KEY_ID.test(id)) throw new ConfigError(setting, `${where} has no id: write it as id:base64, the id of letters, digits, . _ -`);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== 32)
      throw new ConfigError(setting, `${where} is not 32 bytes of base64 (AES-256); make one with \`sciops codec-key\``);
    if (keys.some((k) => k.id === id)) throw new ConfigError(setting, `${where}: the id is used twice; each key needs its own id`);
    keys.push({ id, key });
  });
  return keys;
}

/** A new key line (`id:base64`) for a keys file. */
export function newCodecKey(id: string): string {
  if (!KEY_ID.test(id)) throw new ConfigError('key id', `"${id}" is not an id: use letters, digits, . _ - (up to 64)`);
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** The setting that lets a codec with keys still read payloads written without them (a migration). */
export const ACCEPT_PLAINTEXT_SETTING = 'SCIOPS_CODEC_ACCEPT_PLAINTEXT';

export interface CodecOptions {
  /**
   * Pass payloads that are not encrypted through decode unchanged (history written before a key was set).
   * Off by default: with keys set, a payload without the encrypted encoding was written by a client without
   * the keys (or forged), and is refused.
   */
  readonly acceptPlaintext?: boolean;
}

/**
 * AES-256-GCM payload codec: each payload (metadata and data, serialised) is encrypted with the first key
 * under a fresh 96-bit IV; the key id travels in the metadata and is authenticated as additional data.
 * Decode refuses a payload that is not encrypted unless `acceptPlaintext` is set.
 */
export class AesGcmCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, Buffer>;
  private readonly current: CodecKey;
  readonly acceptsPlaintext: boolean;

  constructor(keys: readonly CodecKey[], options: CodecOptions = {}) {
    const [first] = keys;
    if (first === undefined) throw new Error('AesGcmCodec needs at least one key');
    this.current = first;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    this.acceptsPlaintext = options.acceptPlaintext ?? false;
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      cipher.setAAD(Buffer.from(this.current.id));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: {
          encoding: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(this.current.id),
        },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (encoding === undefined || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) {
        if (this.acceptsPlaintext) return payload;
        const shown = encoding === undefined ? 'no encoding' : `encoding "${Buffer.from(encoding).toString().slice(0, 40)}"`;
        throw new Error(
          `a payload is not encrypted (${shown}) although payload keys are set: it was written by a client without the keys. Send it again with SCIOPS_CODEC_KEYS_FILE set, or set ${ACCEPT_PLAINTEXT_SETTING}=true while history from before the keys is still read`,
        );
      }
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const id = idBytes === undefined ? '' : Buffer.from(idBytes).toString();
      const key = this.byId.get(id);
      if (key === undefined) {
        throw new Error(
          `a payload is encrypted with key "${id}", which is not configured: add it (below the current key) to SCIOPS_CODEC_KEYS or SCIOPS_CODEC_KEYS_FILE`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error(`an encrypted payload (key "${id}") is truncated`);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new Error(
          `an encrypted payload does not authenticate with key "${id}": it was altered, or the key is not the one it was written with`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
