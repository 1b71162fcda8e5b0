import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-store.ts';
import { tempDir } from '../../../test/support/registry.ts';
import { metadataStoreConformance } from '../conformance/metadata-store.ts';

metadataStoreConformance('sqlite', async () => {
  const dir = await tempDir('berth-sqlite-');
  const meta = new SqliteMetadataStore({ path: join(dir, 'metadata.db') });
  return {
    meta,
    cleanup: async () => {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
