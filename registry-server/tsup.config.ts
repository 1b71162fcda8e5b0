import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker threads' modules are loaded by path at run time, so each is an entry of its own.
  entry: { main: 'src/main.ts', 'hash-worker': 'src/registry/hash-worker.ts', 'decrypt-worker': 'src/crypto/decrypt-worker.ts' },
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
