import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { timeoutAfterIo } from '../../server/io-timer.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Blocks the event loop, as a descheduled test process would be, for `ms` and until `done()` (10 s at most). */
function stall(ms: number, done: () => boolean): void {
  const end = Date.now() + ms;
  const giveUp = end + 10_000;
  while (Date.now() < end || (!done() && Date.now() < giveUp)) {
    // Busy: neither timers nor sockets are served.
  }
}

/**
 * A server in another process (it must answer while this one is stalled) that replies to anything, then
 * creates the file named by its argument: the reply is in this process's socket buffer.
 */
const SERVER = `const flag = process.argv[1];
require('node:net').createServer((s) => { s.on('error', () => {}); s.on('data', () => s.write('reply', () => require('node:fs').writeFileSync(flag, ''))); })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

/** A reply that arrives during a stall longer than the wait's timeout, and which side wins: reply or timeout. */
async function race(arm: (ms: number, onTimeout: () => void) => { clear(): void }): Promise<string> {
  const flag = join(tempDir('brainstem-deadline-'), 'replied');
  const server = spawn(process.execPath, ['-e', SERVER, flag], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [port] = (await once(server.stdout, 'data')) as [Buffer];
  const socket = connect(Number(port.toString()), '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  try {
    return await new Promise<string>((resolve) => {
      const timer = arm(50, () => resolve('timeout'));
      socket.once('data', () => {
        timer.clear();
        resolve('reply');
      });
      socket.write('ask');
      stall(100, () => existsSync(flag));
    });
  } finally {
    socket.destroy();
    server.kill();
  }
}

describe('timeoutAfterIo', () => {
  it('lets a reply that came during a stall win over the timeout, where a bare timer would not', async () => {
    const bare = (ms: number, onTimeout: () => void) => {
      const timer = setTimeout(onTimeout, ms);
      return { clear: () => clearTimeout(timer) };
    };
    expect(await race(bare)).toBe('timeout');
    expect(await race(timeoutAfterIo)).toBe('reply');
  });

  it('still times out when nothing comes', async () => {
    const fired = await new Promise<boolean>((resolve) => {
      timeoutAfterIo(10, () => resolve(true));
      setTimeout(() => resolve(false), 1_000);
    });
    expect(fired).toBe(true);
  });
});
