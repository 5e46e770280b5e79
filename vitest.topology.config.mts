import { defineConfig } from 'vitest/config';

/** `npm run test:topology`: the production topology brought up for real (slow; its own stage in CI). */
export default defineConfig({
  test: {
    include: ['test/topology/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 15 * 60_000,
    hookTimeout: 25 * 60_000,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
