import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { main: 'src/main.ts' },
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
