import { rm } from 'node:fs/promises';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { tempDir } from '../../../test/support/registry.ts';
import { blobStoreConformance } from '../conformance/blob-store.ts';

blobStoreConformance('filesystem', async () => {
  const dir = await tempDir('berth-fs-');
  const store = new FsBlobStore(dir);
  await store.init();
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});
