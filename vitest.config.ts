import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Test files share a worker's module cache: importing the gateway once per worker, not once per file, saves about
    // a second of start-up per file. Our modules keep no state between tests (each test builds its own gateway).
    isolate: false,
  },
});
