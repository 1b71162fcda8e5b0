import test from 'ava';
import { GCProfiler } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { YoungCollector } from '../../src/crypto/young-collector.ts';

// Collections while `fn` runs (synchronously, so nothing else can cause one), by V8's type name.
function collections(fn: () => void): string[] {
  const profiler = new GCProfiler();
  profiler.start();
  fn();
  return (profiler.stop()?.statistics ?? []).map((s) => s.gcType);
}

test('collects the young generation once its byte budget is spent, not before', (t) => {
  const collector = new YoungCollector(1024 * 1024);
  t.deepEqual(collections(() => collector.add(512 * 1024)), []);
  t.deepEqual(collections(() => collector.add(512 * 1024)), ['Scavenge']);
  // The count starts again after a collection.
  t.deepEqual(collections(() => collector.add(1024 * 1024 - 1)), []);
  t.deepEqual(collections(() => collector.add(3 * 1024 * 1024)), ['Scavenge']);
});

test('does not leave gc exposed to contexts created afterwards', (t) => {
  new YoungCollector(1).add(1);
  t.is(runInNewContext('typeof gc'), 'undefined');
  t.is(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});
