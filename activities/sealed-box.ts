import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Failure, permanent } from '../common/failures';

/**
 * Handing a secret from one worker to another through workflow history without it ever being readable there
 * (a swarm join token from the manager to a joining node; a runner token from GitLab to the node whose
 * container registers it). The receiving worker opens a box: an X25519 key pair whose private half stays in a
 * 0600 file on that worker; only the public half travels. The sending worker seals the value for that public
 * key (ephemeral X25519 agreement, HKDF-SHA-256, AES-256-GCM); the receiver unseals it inside the activity
 * that uses it, then discards the key. History holds a public key and ciphertext, nothing else.
 */

const VERSION = 'sciops-box-1';

export interface OpenBox {
  /** Names the private key's file on the receiving worker. */
  readonly keyId: string;
  /** The public key, base64 DER (SPKI): safe anywhere. */
  readonly publicKey: string;
}

const keyFile = (secretsDir: string, keyId: string) => path.join(secretsDir, 'boxes', `${keyId}.pem`);

function derive(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), VERSION, 32));
}

/** Seals `value` for the holder of `publicKey`'s private half. Runs inside the sending activity. */
export function seal(publicKey: string, value: string): string {
  const recipient = Buffer.from(publicKey, 'base64');
  const pair = generateKeyPairSync('x25519');
  const ephemeral = pair.publicKey.export({ type: 'spki', format: 'der' });
  const shared = diffieHellman({
    privateKey: pair.privateKey,
    publicKey: createPublicKey({ key: recipient, format: 'der', type: 'spki' }),
  });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(shared, ephemeral, recipient), iv);
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return [VERSION, ephemeral, iv, body, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64'))).join('.');
}

/** Boxes held by one worker: keys under `<secretsDir>/boxes/`, mode 0600. */
export function createSealedBoxes(secretsDir: string) {
  return {
    /** Activity: a new key pair on this worker; returns only its public half. */
    async openSealedBox(): Promise<OpenBox> {
      const pair = generateKeyPairSync('x25519');
      const publicDer = pair.publicKey.export({ type: 'spki', format: 'der' });
      const keyId = createHash('sha256').update(publicDer).digest('hex').slice(0, 24);
      const file = keyFile(secretsDir, keyId);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      await chmod(file, 0o600);
      return { keyId, publicKey: publicDer.toString('base64') };
    },
  };
}

/**
 * The value sealed for this worker's box `keyId`. Fails without retry when the box's key is gone (opened on
 * another worker, or discarded): the sender must seal again for a new box.
 */
export async function unseal(secretsDir: string, keyId: string, sealed: string): Promise<string> {
  const unreadable = (why: string) => permanent(Failure.sealedBoxUnreadable, `sealed value unreadable: ${why}`);
  const privateKey = await readFile(keyFile(secretsDir, keyId), 'utf8').catch(() => {
    throw unreadable(`box ${keyId} is not on this worker (opened elsewhere, or already used); run the workflow again`);
  });
  const [version, ...parts] = sealed.split('.');
  if (version !== VERSION || parts.length !== 4) throw unreadable(`not a ${VERSION} box`);
  const [ephemeral, iv, body, tag] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer, Buffer];
  try {
    const key = createPrivateKey(privateKey);
    const own = createPublicKey(key).export({ type: 'spki', format: 'der' });
    const shared = diffieHellman({ privateKey: key, publicKey: createPublicKey({ key: ephemeral, format: 'der', type: 'spki' }) });
    const decipher = createDecipheriv('aes-256-gcm', derive(shared, ephemeral, own), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw unreadable('sealed for another key, or altered');
  }
}

/** Forgets a box once its value was used. */
export async function discardBox(secretsDir: string, keyId: string): Promise<void> {
  await rm(keyFile(secretsDir, keyId), { force: true });
}
