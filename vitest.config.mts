import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    // The topology's own stage: `npm run test:topology` (vitest.topology.config.mts).
    exclude: ['test/topology/**', '**/node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/own-home.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: real servers per file are the limit, not the CPU.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
