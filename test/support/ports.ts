import { type AddressInfo, createServer } from 'node:net';
import { portAnswers } from '../../clients/dev-server';

/** A loopback port the OS hands out as free right now. */
function osFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A free loopback port; with `alsoFree`, one whose port + each offset is free too (a dev server's UI at +1000,
 * its codec server at +1001).
 */
export async function freePort(alsoFree: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = await osFreePort();
    const others = alsoFree.map((offset) => port + offset);
    if (others.every((p) => p < 65536) && !(await Promise.all(others.map(portAnswers))).includes(true)) return port;
  }
}
