/**
 * Preloaded into a spawned gateway (`--expose-gc --import <this file>`): on SIGUSR2 it collects garbage and
 * prints one line `memory {"rss":…,"heapUsed":…,"external":…,"arrayBuffers":…}` (bytes) on stdout, so a test
 * can compare the gateway's memory before and after a load. Test-only; the gateway itself knows nothing of it.
 */
const collect = (globalThis as { gc?: () => void }).gc;

process.on('SIGUSR2', () => {
  // Two passes: the first can leave objects that only become garbage once finalizers ran.
  collect?.();
  collect?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  process.stdout.write(`memory ${JSON.stringify({ rss, heapUsed, external, arrayBuffers, gc: collect !== undefined })}\n`);
});
