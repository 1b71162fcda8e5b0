// Alone in its file (its own process), so no concurrent test disturbs the memory measurement.
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test from 'ava';
import { S3BlobStore } from '../../src/storage/s3-blob-store.ts';
import { s3Credentials, startS3 } from '../../../test/support/s3.ts';

const MiB = 1024 * 1024;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('s3: a 40 MiB streamed append holds a few parts in memory, not the body', async (t) => {
  const server = await startS3();
  t.teardown(() => server.close());
  const store = new S3BlobStore({ bucket: server.bucket, endpoint: server.endpoint, forcePathStyle: true, credentials: s3Credentials, partSizeBytes: 5 * MiB });
  t.teardown(() => store.destroy());
  // Warm up: load the SDK's code paths and open a connection before taking the baseline.
  await store.createUpload('warm');
  await store.appendUpload('warm', 0, Readable.from([Buffer.alloc(1000)]));

  const piece = Buffer.alloc(64 * 1024, 7);
  async function* body(): AsyncGenerator<Buffer> {
    // Yield slowly enough for the sampler to run, as a network body would arrive.
    for (let i = 0; i < 640; i++) {
      if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
      yield Buffer.from(piece);
    }
  }
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakBuffers = base.arrayBuffers;
  const sampler = setInterval(() => {
    // Measure what is held, not garbage V8 has not got round to collecting yet.
    gc();
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
  }, 25);
  await store.createUpload('big');
  const length = await store.appendUpload('big', 0, Readable.from(body()));
  clearInterval(sampler);

  t.is(length, 40 * MiB);
  t.deepEqual(await store.stat('sha256:' + '0'.repeat(64)), undefined);
  const rssGrowth = (peakRss - base.rss) / MiB;
  const bufferGrowth = (peakBuffers - base.arrayBuffers) / MiB;
  t.log(`peak growth: rss ${rssGrowth.toFixed(1)} MiB, array buffers ${bufferGrowth.toFixed(1)} MiB (s3rver runs in this process too)`);
  t.true(rssGrowth < 64, `rss grew ${rssGrowth.toFixed(1)} MiB`);
  // Part buffers: the chunker's and queueSize (2) parts in flight, 5 MiB each.
  t.true(bufferGrowth < 30, `array buffers grew ${bufferGrowth.toFixed(1)} MiB`);
});
