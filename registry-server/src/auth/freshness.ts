// Short-lived memory of authentication and policy lookups. A sign-in or a policy set read from
// the store is reused for at most `ttlMs`, and forgotten at once when anything that could change
// it is written through this process (the generation moves). Other replicas' writes are seen
// within the TTL.
import type { MetadataStore } from '../meta/metadata-store.ts';

export class Freshness {
  generation = 0;

  bump(): void {
    this.generation++;
  }
}

interface Entry<V> {
  readonly value: V;
  readonly generation: number;
  readonly until: number;
}

export class FreshCache<V> {
  private readonly freshness: Freshness;
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly entries = new Map<string, Entry<V>>();

  constructor(freshness: Freshness, ttlMs: number, max = 10_000) {
    this.freshness = freshness;
    this.ttlMs = ttlMs;
    this.max = max;
  }

  get(key: string, now = Date.now()): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.generation !== this.freshness.generation || e.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Remembers a value; `until` caps the TTL (a token's expiry, say). */
  set(key: string, value: V, until = Infinity, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, { value, generation: this.freshness.generation, until: Math.min(now + this.ttlMs, until) });
  }
}

// Documents hold principals, keys and policies; deleting a repository deletes its policy.
const writes = new Set<PropertyKey>(['putDocument', 'deleteDocument', 'deleteRepository']);

/**
 * The same store, bumping `freshness` whenever a document is written or a repository deleted,
 * except documents of the kinds in `unrelated` (bookkeeping such as a key's last use).
 */
export function observeWrites(meta: MetadataStore, freshness: Freshness, unrelated: ReadonlySet<string> = new Set()): MetadataStore {
  // Methods are bound once, so a call through the proxy allocates nothing.
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(meta, {
    get(target, prop) {
      const known = methods.get(prop);
      if (known !== undefined) return known;
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...a: unknown[]) => unknown;
      const method = writes.has(prop)
        ? async (...args: unknown[]) => {
            try {
              return await fn.apply(target, args);
            } finally {
              if (!unrelated.has(args[0] as string)) freshness.bump();
            }
          }
        : fn.bind(target);
      methods.set(prop, method);
      return method;
    },
  });
}
