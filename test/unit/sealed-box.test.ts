import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createSealedBoxes, discardBox, seal, unseal } from '../../activities/sealed-box';
import { tempDir } from '../support/experiments';

const TOKEN = 'SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx';

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('sealed boxes', () => {
  it('carry a value to the worker holding the box, as text that does not contain it', async () => {
    const dir = tempDir('boxes');
    const box = await createSealedBoxes(dir).openSealedBox();
    const sealed = seal(box.publicKey, TOKEN);
    expect(sealed).not.toContain(TOKEN);
    expect(sealed).not.toContain(Buffer.from(TOKEN).toString('base64').slice(0, 20));
    expect(await unseal(dir, box.keyId, sealed)).toBe(TOKEN);
    // Two seals of one value differ (fresh ephemeral key and nonce each time).
    expect(seal(box.publicKey, TOKEN)).not.toBe(sealed);
    const file = path.join(dir, 'boxes', readdirSync(path.join(dir, 'boxes'))[0] as string);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('cannot be opened with another box, once discarded, or after tampering', async () => {
    const dir = tempDir('boxes');
    const boxes = createSealedBoxes(dir);
    const [mine, other] = [await boxes.openSealedBox(), await boxes.openSealedBox()];
    const sealed = seal(mine.publicKey, TOKEN);
    expect((await failure(unseal(dir, other.keyId, sealed))).message).toMatch(/sealed for another key, or altered/);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('x'.repeat(TOKEN.length)).toString('base64');
    expect((await failure(unseal(dir, mine.keyId, parts.join('.')))).message).toMatch(/altered/);
    expect((await failure(unseal(dir, mine.keyId, 'plain text'))).message).toMatch(/not a sciops-box-1 box/);
    await discardBox(dir, mine.keyId);
    const gone = await failure(unseal(dir, mine.keyId, sealed));
    expect(gone.nonRetryable).toBe(true);
    expect(gone.message).toMatch(/not on this worker/);
  });
});
