#!/usr/bin/env node
/**
 * The `brainstem` command: `--help`, `--version`, or validate the configuration and start the gateway
 * (server/start.ts). Human-readable lines go to stdout; logs (JSON) go to stderr. Exit code 2: bad configuration.
 */
import { ConfigError, loadConfigFromProcess } from './config.js';
import { usage } from './usage.js';
import { SERVER_VERSION } from './version.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) return void process.stdout.write(`${usage()}\n`);
  if (args.includes('--version')) return void process.stdout.write(`${SERVER_VERSION}\n`);
  const config = loadConfigFromProcess();
  const { start } = await import('./start.js');
  await start(config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`brainstem: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`brainstem: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
