import { createHash } from 'node:crypto';

// Locks a key (an address, an access key id) after repeated failed logins. State is in memory
// and bounded, so a flood of distinct keys costs a fixed amount and cannot grow without end.

export type LoginThrottleOptions = {
  maxFailures?: number;
  windowSeconds?: number;
  baseLockSeconds?: number;
  maxLockSeconds?: number;
  maxEntries?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
};

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

type Entry = {
  failures: number;
  windowStart: number;
  lastFailure: number;
  lockedUntil: number;
  /** Locks so far in this run of failures; each one doubles the next. */
  locks: number;
};

// Keys derive from client input (an access key id); long ones are hashed so memory stays bounded.
const maxKeyLength = 128;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

export class LoginThrottle {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #baseLockMs: number;
  readonly #maxLockMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  // Insertion order is kept as least-recently-failed first, for eviction.
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginThrottleOptions = {}) {
    this.#maxFailures = Math.floor(positive('maxFailures', options.maxFailures ?? 5));
    this.#windowMs = positive('windowSeconds', options.windowSeconds ?? 900) * 1000;
    this.#baseLockMs = positive('baseLockSeconds', options.baseLockSeconds ?? 30) * 1000;
    this.#maxLockMs = Math.max(this.#baseLockMs, positive('maxLockSeconds', options.maxLockSeconds ?? 900) * 1000);
    this.#maxEntries = Math.floor(positive('maxEntries', options.maxEntries ?? 10_000));
    this.#now = options.now ?? Date.now;
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  check(keys: string[]): ThrottleDecision {
    const now = this.#now();
    let waitMs = 0;
    for (const raw of keys) {
      const key = this.#key(raw);
      const entry = this.#entries.get(key);
      if (!entry) continue;
      if (this.#stale(entry, now)) {
        this.#entries.delete(key);
        continue;
      }
      waitMs = Math.max(waitMs, entry.lockedUntil - now);
    }
    return waitMs > 0 ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) } : { allowed: true };
  }

  failure(keys: string[]): void {
    const now = this.#now();
    for (const raw of new Set(keys.map((k) => this.#key(k)))) {
      let entry = this.#entries.get(raw);
      if (entry && this.#stale(entry, now)) entry = undefined;
      if (!entry) {
        entry = { failures: 0, windowStart: now, lastFailure: now, lockedUntil: 0, locks: 0 };
      }
      // Re-insert so the map stays ordered by last failure.
      this.#entries.delete(raw);
      this.#makeRoom(now);
      this.#entries.set(raw, entry);
      entry.lastFailure = now;
      // Attempts made while locked should not have reached the check; they neither count nor extend.
      if (now < entry.lockedUntil) continue;
      if (now - entry.windowStart >= this.#windowMs) {
        entry.failures = 0;
        entry.windowStart = now;
      }
      entry.failures += 1;
      if (entry.failures >= this.#maxFailures) {
        const lockMs = Math.min(this.#maxLockMs, this.#baseLockMs * 2 ** Math.min(entry.locks, 52));
        entry.locks += 1;
        entry.lockedUntil = now + lockMs;
        entry.failures = 0;
        entry.windowStart = now;
      }
    }
  }

  success(keys: string[]): void {
    for (const raw of keys) this.#entries.delete(this.#key(raw));
  }

  #key(raw: string): string {
    return raw.length <= maxKeyLength ? raw : `sha256:${createHash('sha256').update(raw, 'utf8').digest('base64url')}`;
  }

  /** Unlocked and quiet for a whole window: nothing left worth remembering, doubling included. */
  #stale(entry: Entry, now: number): boolean {
    return now >= entry.lockedUntil && now - entry.lastFailure >= this.#windowMs;
  }

  /**
   * Called before adding a key. When full, drop a tenth at once so the scan is amortised:
   * stale entries first, then unlocked ones oldest first, then, only if all are locked, the oldest.
   */
  #makeRoom(now: number): void {
    if (this.#entries.size < this.#maxEntries) return;
    const target = Math.min(this.#maxEntries - 1, Math.floor(this.#maxEntries * 0.9));
    for (const [key, entry] of this.#entries) {
      if (this.#stale(entry, now)) this.#entries.delete(key);
    }
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= target) return;
      if (now >= entry.lockedUntil) this.#entries.delete(key);
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= target) return;
      this.#entries.delete(key);
    }
  }
}
