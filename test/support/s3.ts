// An S3 endpoint for tests: s3rver (the S3 protocol on the local filesystem) on a free loopback
// port, and a fault-injecting HTTP proxy to put in front of it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** s3rver accepts these and only these (unless told otherwise). */
export const s3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

// s3rver ships no type declarations; load it as the CommonJS module it is.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface RunningS3 {
  readonly endpoint: string;
  /** A bucket created at start. */
  readonly bucket: string;
  /** Creates another empty bucket and returns its name. */
  newBucket(): Promise<string>;
  /** Lets the process exit while the server (and connections to it) are still open. */
  unref(): void;
  close(): Promise<void>;
}

export async function startS3(): Promise<RunningS3> {
  const directory = await mkdtemp(join(tmpdir(), 'berth-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3Credentials });
  const newBucket = async (): Promise<string> => {
    const name = `berth-${randomBytes(6).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  };
  const bucket = await newBucket();
  let unrefed = false;
  const sockets = new Set<Socket>();
  server.httpServer?.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (unrefed) socket.unref();
  });
  return {
    endpoint,
    bucket,
    newBucket,
    unref() {
      unrefed = true;
      server.httpServer?.unref();
      for (const socket of sockets) socket.unref();
    },
    async close() {
      client.destroy();
      // Clients keep sockets alive; close would wait for them.
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface FaultProxy {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** How many requests the proxy answered with an error itself. */
  readonly failures: number;
  close(): Promise<void>;
}

/**
 * A proxy that forwards requests verbatim (the Host header too, so signatures still match) but
 * answers every `failEvery`th request itself with `status` (503) and an S3 error document
 * (SlowDown), the way S3 does under load. Records every request's headers.
 */
export async function faultProxy(target: string, plan: { failEvery?: number; status?: number; code?: string }): Promise<FaultProxy> {
  const upstream = new URL(target);
  const failEvery = plan.failEvery ?? 0;
  const status = plan.status ?? 503;
  const code = plan.code ?? 'SlowDown';
  const requests: RecordedRequest[] = [];
  let failures = 0;
  let count = 0;

  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    count++;
    if (failEvery > 0 && count % failEvery === 0) {
      failures++;
      // Read the body first, so the client sees our answer rather than a broken pipe.
      req.resume();
      req.on('end', () => {
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>Please reduce your request rate.</Message><RequestId>fault-${count}</RequestId></Error>`;
        res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    const headers = { ...req.headers };
    // Node already answered 100-continue to the client; upstream must not wait for the body.
    delete headers.expect;
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (upstreamRes: IncomingMessage) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.on('error', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get failures() {
      return failures;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
