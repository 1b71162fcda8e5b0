import test from 'ava';
import { LoginThrottle, type LoginThrottleOptions } from '../../src/auth/throttle.ts';

function setup(options: LoginThrottleOptions = {}) {
  const clock = { ms: 1_700_000_000_000 };
  const throttle = new LoginThrottle({ now: () => clock.ms, ...options });
  const advance = (seconds: number) => {
    clock.ms += seconds * 1000;
  };
  const fail = (keys: string[], times = 1) => {
    for (let i = 0; i < times; i++) throttle.failure(keys);
  };
  return { throttle, advance, fail };
}

const ip = 'ip:10.0.0.1';
const key = 'key:BKIAAAAAAAAAAAAAAAAA';

test('locks after maxFailures failures and reports retryAfter', (t) => {
  const { throttle, advance, fail } = setup();
  fail([ip, key], 4);
  t.deepEqual(throttle.check([ip, key]), { allowed: true });
  fail([ip, key]);
  t.deepEqual(throttle.check([key]), { allowed: false, retryAfterSeconds: 30 });
  t.deepEqual(throttle.check([ip]), { allowed: false, retryAfterSeconds: 30 });
  t.deepEqual(throttle.check(['ip:10.0.0.2']), { allowed: true });
  advance(10.5);
  t.deepEqual(throttle.check([key]), { allowed: false, retryAfterSeconds: 20 });
  advance(19);
  t.deepEqual(throttle.check([key]), { allowed: false, retryAfterSeconds: 1 });
  advance(0.5);
  t.deepEqual(throttle.check([key]), { allowed: true });
});

test('the longest lock among the keys wins', (t) => {
  const { throttle, advance, fail } = setup();
  fail([ip], 5);
  advance(10);
  fail([key], 5);
  t.deepEqual(throttle.check([ip, key]), { allowed: false, retryAfterSeconds: 30 });
  t.deepEqual(throttle.check([ip]), { allowed: false, retryAfterSeconds: 20 });
});

test('each further lock doubles, up to maxLockSeconds', (t) => {
  const { throttle, advance, fail } = setup({ maxLockSeconds: 200 });
  const expected = [30, 60, 120, 200, 200];
  for (const seconds of expected) {
    fail([key], 5);
    const decision = throttle.check([key]);
    t.deepEqual(decision, { allowed: false, retryAfterSeconds: seconds });
    advance(seconds);
    t.true(throttle.check([key]).allowed);
  }
});

test('failures made while locked neither count nor extend the lock', (t) => {
  const { throttle, advance, fail } = setup();
  fail([key], 5);
  fail([key], 20);
  t.deepEqual(throttle.check([key]), { allowed: false, retryAfterSeconds: 30 });
  advance(30);
  t.true(throttle.check([key]).allowed);
  fail([key], 4);
  t.true(throttle.check([key]).allowed);
});

test('failures older than the window are forgotten', (t) => {
  const { throttle, advance, fail } = setup({ windowSeconds: 60 });
  fail([key], 4);
  advance(60);
  fail([key], 4);
  t.true(throttle.check([key]).allowed);
  fail([key]);
  t.false(throttle.check([key]).allowed);
});

test('a quiet window after a lock resets the doubling', (t) => {
  const { throttle, advance, fail } = setup({ windowSeconds: 100 });
  fail([key], 5);
  advance(30);
  fail([key], 5);
  t.deepEqual(throttle.check([key]), { allowed: false, retryAfterSeconds: 60 });
  // Lock ends at +60; then a whole quiet window.
  advance(160);
  t.true(throttle.check([key]).allowed);
  t.is(throttle.size, 0);
  fail([key], 5);
  t.deepEqual(throttle.check([key]), { allowed: false, retryAfterSeconds: 30 });
});

test('success clears only the keys passed', (t) => {
  const { throttle, fail } = setup();
  fail([ip, key], 4);
  throttle.success([key]);
  fail([ip, key]);
  t.true(throttle.check([key]).allowed);
  t.false(throttle.check([ip]).allowed);
  throttle.success([ip]);
  t.true(throttle.check([ip]).allowed);
  // Success also lifts a lock on that key.
  fail([key], 5);
  t.false(throttle.check([key]).allowed);
  throttle.success([key]);
  t.true(throttle.check([key]).allowed);
});

test('a key repeated in one call counts once', (t) => {
  const { throttle, fail } = setup({ maxFailures: 2 });
  fail([key, key]);
  t.true(throttle.check([key]).allowed);
  fail([key]);
  t.false(throttle.check([key]).allowed);
});

test('memory stays bounded under 100k distinct keys, and locks outlive the flood', (t) => {
  const { throttle, advance, fail } = setup({ maxEntries: 1000 });
  fail([key], 5);
  for (let i = 0; i < 100_000; i++) {
    fail([`ip:${i}`]);
    if (throttle.size > 1000) return t.fail(`size ${throttle.size} at ${i}`);
    if (i % 10_000 === 0) advance(1);
  }
  t.true(throttle.size <= 1000);
  // Unlocked entries go first, so the locked key is still locked.
  t.false(throttle.check([key]).allowed);
  // Recent keys are kept, the oldest dropped.
  fail(['ip:99999'], 4);
  t.false(throttle.check(['ip:99999']).allowed);
  fail(['ip:0'], 4);
  t.true(throttle.check(['ip:0']).allowed);
});

test('expired entries are evicted before live ones', (t) => {
  const { throttle, advance, fail } = setup({ maxEntries: 10, windowSeconds: 60 });
  for (let i = 0; i < 5; i++) fail([`old:${i}`]);
  advance(61);
  for (let i = 0; i < 5; i++) fail([`new:${i}`], 4);
  fail(['newest']);
  t.true(throttle.size <= 10);
  // The five live entries kept their counts: one more failure locks each.
  for (let i = 0; i < 5; i++) {
    fail([`new:${i}`]);
    t.false(throttle.check([`new:${i}`]).allowed);
  }
});

test('when every entry is locked, the oldest is dropped', (t) => {
  const { throttle, fail } = setup({ maxEntries: 3, maxFailures: 1 });
  fail(['a']);
  fail(['b']);
  fail(['c']);
  fail(['d']);
  t.is(throttle.size, 3);
  t.true(throttle.check(['a']).allowed);
  t.false(throttle.check(['d']).allowed);
});

test('long keys are hashed, not stored whole', (t) => {
  const { throttle, fail } = setup({ maxFailures: 1 });
  const long = `key:${'A'.repeat(100_000)}`;
  fail([long]);
  t.false(throttle.check([long]).allowed);
  t.true(throttle.check([`${long}B`]).allowed);
});

test('options are validated', (t) => {
  t.throws(() => new LoginThrottle({ maxFailures: 0 }), { instanceOf: RangeError });
  t.throws(() => new LoginThrottle({ windowSeconds: -1 }), { instanceOf: RangeError });
  t.throws(() => new LoginThrottle({ maxEntries: Number.NaN }), { instanceOf: RangeError });
  t.true(new LoginThrottle().check([ip]).allowed);
});
