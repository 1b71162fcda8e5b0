import { defineConfig } from 'tsup';

export default defineConfig({
  // The hash worker is loaded by path at run time, so it is an entry of its own.
  entry: { main: 'src/main.ts', 'hash-worker': 'src/registry/hash-worker.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  clean: true,
  // Dependencies stay in node_modules; only our own code is bundled.
  skipNodeModulesBundle: true,
  // node:sqlite exists only with its prefix.
  removeNodeProtocol: false,
});
