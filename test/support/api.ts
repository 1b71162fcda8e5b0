// One registry and a typed client shared by the tests of a file.
import test from 'ava';
import { BerthClient } from '../../registry-server/src/client/client.ts';
import type { Config } from '../../registry-server/src/config.ts';
import { startRegistry, type RunningRegistry } from './registry.ts';
import { testAdmin } from './auth.ts';

export interface SharedRegistry {
  readonly reg: RunningRegistry;
  readonly api: BerthClient;
}

/** Registers before/after hooks that start and stop one registry; read it inside tests. */
export function sharedRegistry(overrides: Partial<Config> = {}): SharedRegistry {
  let reg: RunningRegistry | undefined;
  let api: BerthClient | undefined;
  test.before(async () => {
    reg = await startRegistry(overrides);
    api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  });
  test.after.always(async () => reg?.close());
  return {
    get reg(): RunningRegistry {
      if (!reg) throw new Error('the registry is not started yet');
      return reg;
    },
    get api(): BerthClient {
      if (!api) throw new Error('the registry is not started yet');
      return api;
    },
  };
}
