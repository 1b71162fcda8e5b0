// The plugin side of HashiCorp go-plugin, as Terraform and OpenTofu launch providers: check
// the magic cookie, negotiate protocol 6, listen on a unix socket (TCP on Windows or when the
// socket cannot be made), set up AutoMTLS, serve health / controller / stdio / tfplugin6 over
// gRPC, print the handshake line, and stop when the host says Shutdown.
//
// Behaviour taken from hashicorp/go-plugin (server.go, grpc_server.go, grpc_controller.go,
// grpc_stdio.go, mtls.go); see handshake.ts and cert.ts for the details of each fact.
import { X509Certificate } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Metadata,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  status,
  type sendUnaryData,
  type ServerInterceptor,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { loadPluginServices } from '../proto/load.ts';
import { generateCertificate, handshakeCertEncoding } from './cert.ts';
import {
  APP_PROTOCOL_VERSION,
  CORE_PROTOCOL_VERSION,
  ENV,
  formatHandshakeLine,
  hasMagicCookie,
  negotiateProtocol,
  notAPluginMessage,
  portRange,
} from './handshake.ts';
import { createLogger, type Logger } from './log.ts';
import { createProviderService } from './provider-service.ts';
import type { ProviderHandlers } from './types.ts';

/** go-plugin's health check asks for this service name. */
export const HEALTH_SERVICE_NAME = 'plugin';

/** terraform-plugin-go raises gRPC's 4 MiB message limit to 256 MiB; so does this. */
export const MAX_MESSAGE_BYTES = 256 << 20;

export interface ServeOptions {
  provider: ProviderHandlers;
  /** Name of the executable, for messages. */
  binaryName?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /**
   * unix (go-plugin's default off Windows), tcp (127.0.0.1, PLUGIN_MIN_PORT..PLUGIN_MAX_PORT),
   * or auto: unix, falling back to tcp when the socket cannot be made, tcp on Windows.
   * Defaults to BERTH_PLUGIN_NETWORK, else auto.
   */
  network?: 'auto' | 'unix' | 'tcp';
  /** How long in-flight calls get to finish on shutdown before connections are cut. */
  shutdownGraceMs?: number;
  /** Exit the process once shut down (default true); tests embedding the server turn it off. */
  exitOnShutdown?: boolean;
  /** Shut down when the parent process goes away (default true). */
  watchParent?: boolean;
}

export interface PluginServer {
  network: 'unix' | 'tcp';
  address: string;
  handshakeLine: string;
  /** Stops serving (as GRPCController/Shutdown does). */
  shutdown(reason?: string): Promise<void>;
  /** Settles once the server has stopped. */
  closed: Promise<void>;
}

/**
 * Serves `provider` as a Terraform plugin. Returns once the handshake line is out. When the
 * environment is not that of a plugin host, explains on stderr and exits with status 1.
 */
export async function servePlugin(options: ServeOptions): Promise<PluginServer> {
  const env = options.env ?? process.env;
  const binary = options.binaryName ?? 'terraform-provider-berth';

  if (!hasMagicCookie(env)) {
    process.stderr.write(notAPluginMessage(binary));
    process.exit(1);
  }
  const negotiated = negotiateProtocol(env, [APP_PROTOCOL_VERSION]);
  if (!negotiated.ok) {
    process.stderr.write(`[ERROR] ${binary}: refusing to start: ${negotiated.message}\n`);
    process.exit(1);
  }

  // From here on stdout belongs to the handshake line; anything else written there (a stray
  // console.log in provider code) goes to the host through GRPCStdio, or to stderr.
  const stdio = captureStdout();
  const log = options.logger ?? createLogger({ module: 'berth' });
  if (negotiated.offered === null) log.warn(`${ENV.protocolVersions} is not set; serving protocol ${negotiated.version}`);

  let shutdownStarted: Promise<void> | undefined;
  let serving = true;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const exitOnShutdown = options.exitOnShutdown ?? true;

  // --- AutoMTLS -------------------------------------------------------------------------
  let credentials = ServerCredentials.createInsecure();
  let serverCert = '';
  const interceptors: ServerInterceptor[] = [];
  const clientCertPem = env[ENV.clientCert];
  if (clientCertPem) {
    let clientCert: X509Certificate;
    try {
      clientCert = new X509Certificate(clientCertPem);
    } catch (err) {
      log.error(`${ENV.clientCert} is set but is not a PEM certificate`, { error: err });
      process.stderr.write(`[ERROR] ${binary}: ${ENV.clientCert} is not a PEM certificate: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const server = generateCertificate({ commonName: 'localhost', dnsNames: ['localhost'] });
    credentials = ServerCredentials.createSsl(
      Buffer.from(clientCert.toString()),
      [{ private_key: Buffer.from(server.keyPem), cert_chain: Buffer.from(server.certPem) }],
      true,
    );
    interceptors.push(pinClientCertificate(clientCert.raw, log));
    serverCert = handshakeCertEncoding(server.der);
    log.debug('configured automatic mTLS', { client_cert_fingerprint: clientCert.fingerprint256 });
  } else {
    log.debug(`${ENV.clientCert} is not set: serving without TLS`);
  }

  // --- services ---------------------------------------------------------------------------
  const services = loadPluginServices();
  const server = new Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    interceptors,
  });

  // StopProvider aborts the signal of every call in flight, then later calls get a fresh one.
  let stopController = new AbortController();
  const inFlight = new Set<() => void>();
  const streams = new Set<ServerWritableStream<unknown, unknown>>();

  const provider = createProviderService(services.provider, {
    handlers: options.provider,
    log,
    stopSignal: () => stopController.signal,
    stop: () => {
      log.info('StopProvider: cancelling in-flight operations', { in_flight: inFlight.size });
      stopController.abort(new Error('Terraform asked the provider to stop'));
      stopController = new AbortController();
    },
    track: (abort) => {
      inFlight.add(abort);
      return () => inFlight.delete(abort);
    },
  });
  server.addService(provider.definition, provider.implementation);

  const healthStatus = (service: string): 'SERVING' | 'NOT_SERVING' | undefined =>
    service === '' || service === HEALTH_SERVICE_NAME ? (serving ? 'SERVING' : 'NOT_SERVING') : undefined;

  const keepOpen = (call: ServerWritableStream<unknown, unknown>): void => {
    streams.add(call);
    const forget = (): void => void streams.delete(call);
    call.once('cancelled', forget);
    call.once('close', forget);
    call.once('finish', forget);
  };

  server.addService(services.health, {
    Check: (call: ServerUnaryCall<{ service: string }, unknown>, callback: sendUnaryData<unknown>) => {
      const s = healthStatus(call.request.service);
      if (s === undefined) callback({ code: status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
      else callback(null, { status: s });
    },
    List: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const s = healthStatus('')!;
      callback(null, { statuses: { '': { status: s }, [HEALTH_SERVICE_NAME]: { status: s } } });
    },
    Watch: (call: ServerWritableStream<{ service: string }, unknown>) => {
      call.write({ status: healthStatus(call.request.service) ?? 'SERVICE_UNKNOWN' });
      keepOpen(call);
    },
  });

  server.addService(services.controller, {
    Shutdown: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      callback(null, {});
      setImmediate(() => void shutdown('GRPCController.Shutdown'));
    },
  });

  server.addService(services.stdio, {
    StreamStdio: (call: ServerWritableStream<unknown, unknown>) => {
      const detach = stdio.attach((data) => {
        if (!call.cancelled && call.writable) call.write({ channel: 'STDOUT', data });
      });
      call.once('cancelled', detach);
      call.once('close', detach);
      keepOpen(call);
    },
  });

  // --- listen -----------------------------------------------------------------------------
  const network = options.network ?? parseNetwork(env.BERTH_PLUGIN_NETWORK) ?? 'auto';
  let bound: { network: 'unix' | 'tcp'; address: string; socketPath?: string } | undefined;
  if (network === 'unix' || (network === 'auto' && process.platform !== 'win32')) {
    try {
      bound = await listenUnix(server, credentials, env, log);
    } catch (err) {
      if (network === 'unix') throw err;
      log.warn('cannot listen on a unix socket; falling back to TCP', { error: (err as Error).message });
    }
  }
  if (!bound) bound = await listenTcp(server, credentials, env);
  log.debug('plugin address', { network: bound.network, address: bound.address });

  const handshakeLine = formatHandshakeLine({
    coreVersion: CORE_PROTOCOL_VERSION,
    appVersion: negotiated.version,
    network: bound.network,
    address: bound.address,
    protocol: 'grpc',
    serverCert,
    ...(env[ENV.multiplexGrpc] ? { multiplex: false } : {}),
  });

  // --- lifecycle --------------------------------------------------------------------------
  const grace = options.shutdownGraceMs ?? 1_500;
  const socketPath = bound.socketPath;
  const shutdown = (reason = 'shutdown requested'): Promise<void> => {
    if (shutdownStarted) return shutdownStarted;
    shutdownStarted = (async () => {
      log.info('plugin shutting down', { reason });
      serving = false;
      stopController.abort(new Error('the provider is shutting down'));
      for (const abort of inFlight) abort();
      for (const call of streams) {
        try {
          call.end();
        } catch {
          // already gone
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn('calls still running after the grace period; closing connections', { grace_ms: grace });
          server.forceShutdown();
          resolve();
        }, grace);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (socketPath) rmSync(socketPath, { force: true });
      clearInterval(parentWatch);
      for (const [signal, handler] of signalHandlers) process.removeListener(signal, handler);
      log.debug('plugin stopped');
      resolveClosed();
      if (exitOnShutdown) process.exit(0);
    })();
    return shutdownStarted;
  };

  // go-plugin ignores SIGINT: Ctrl-C in Terraform reaches the whole process group, and
  // Terraform itself then asks the provider to stop (StopProvider) and later to shut down.
  // SIGTERM and SIGHUP end the plugin gracefully.
  let interrupts = 0;
  const signalHandlers: [NodeJS.Signals, () => void][] = [
    ['SIGINT', () => log.trace('plugin received interrupt signal, ignoring', { count: ++interrupts })],
    ['SIGTERM', () => void shutdown('SIGTERM')],
    ['SIGHUP', () => void shutdown('SIGHUP')],
  ];
  for (const [signal, handler] of signalHandlers) process.on(signal, handler);

  // An orphaned plugin has nobody to serve: stop when the host process is gone.
  const parentPid = process.ppid;
  const parentWatch = setInterval(() => {
    if ((options.watchParent ?? true) && process.ppid !== parentPid) void shutdown('the host process exited');
  }, 1_000);
  parentWatch.unref();
  process.stderr.on('error', () => void shutdown('stderr closed'));

  // Never let an unexpected exception take the plugin (and Terraform's run) down.
  process.on('uncaughtException', (err) => log.error('uncaught exception', { error: err }));
  process.on('unhandledRejection', (reason) => log.error('unhandled promise rejection', { error: reason }));

  await stdio.writeHandshake(handshakeLine);
  log.info('plugin serving', { network: bound.network, address: bound.address, protocol_version: negotiated.version, tls: serverCert !== '' });

  return { network: bound.network, address: bound.address, handshakeLine, shutdown, closed };
}

function parseNetwork(v: string | undefined): 'auto' | 'unix' | 'tcp' | undefined {
  return v === 'unix' || v === 'tcp' || v === 'auto' ? v : undefined;
}

/** Requires the peer certificate to be exactly the host's (PLUGIN_CLIENT_CERT). */
function pinClientCertificate(expected: Buffer, log: Logger): ServerInterceptor {
  return (_method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        const raw = call.getAuthContext().sslPeerCertificate?.raw;
        if (raw && expected.equals(raw)) {
          next();
          return;
        }
        log.warn('refused a call whose client certificate is not the one in PLUGIN_CLIENT_CERT', { peer: call.getPeer() });
        call.sendStatus({ code: status.UNAUTHENTICATED, details: 'client certificate does not match PLUGIN_CLIENT_CERT', metadata: new Metadata() });
      },
    });
}

function bind(server: Server, target: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(target, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/** Like go-plugin: a fresh "plugin<digits>" path in PLUGIN_UNIX_SOCKET_DIR or the temp dir. */
async function listenUnix(
  server: Server,
  credentials: ServerCredentials,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<{ network: 'unix'; address: string; socketPath: string }> {
  const dir = env[ENV.unixSocketDir] || tmpdir();
  let path = '';
  for (let i = 0; i < 100 && (!path || existsSync(path)); i++) {
    path = join(dir, `plugin${Math.floor(Math.random() * 1e10)}`);
  }
  if (Buffer.byteLength(path) > 103) throw new Error(`unix socket path too long: ${path}`);
  await bind(server, `unix://${path}`, credentials);
  const group = env[ENV.unixSocketGroup];
  if (group) {
    const gid = lookupGroup(group);
    chownSync(path, -1, gid);
    chmodSync(path, 0o660);
    log.debug('unix socket shared with group', { group, gid });
  }
  return { network: 'unix', address: path, socketPath: path };
}

function lookupGroup(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new Error(`failed to find gid from "${group}"`);
}

/** Like go-plugin: the first free port of PLUGIN_MIN_PORT..PLUGIN_MAX_PORT on 127.0.0.1 (0 = any). */
async function listenTcp(server: Server, credentials: ServerCredentials, env: NodeJS.ProcessEnv): Promise<{ network: 'tcp'; address: string }> {
  const { min, max } = portRange(env);
  for (let port = min; port <= max; port++) {
    try {
      const actual = await bind(server, `127.0.0.1:${port}`, credentials);
      return { network: 'tcp', address: `127.0.0.1:${actual}` };
    } catch {
      // taken: try the next one
    }
  }
  throw new Error("couldn't bind plugin TCP listener");
}

interface StdoutCapture {
  writeHandshake(line: string): Promise<void>;
  /** Receives what is written to stdout from now on; returns the detach function. */
  attach(sink: (data: Buffer) => void): () => void;
}

function captureStdout(): StdoutCapture {
  const out = process.stdout;
  const realWrite = out.write.bind(out) as (chunk: string, cb: (err?: Error | null) => void) => boolean;
  const sinks = new Set<(data: Buffer) => void>();
  const redirected = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    const callback = typeof encoding === 'function' ? encoding : cb;
    const data =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : Buffer.from(chunk as Uint8Array);
    if (sinks.size > 0) for (const sink of sinks) sink(data);
    else process.stderr.write(data);
    if (typeof callback === 'function') process.nextTick(callback as () => void);
    return true;
  };
  out.write = redirected as typeof out.write;
  return {
    writeHandshake: (line) =>
      new Promise((resolve, reject) => {
        realWrite(line, (err) => (err ? reject(err) : resolve()));
      }),
    attach: (sink) => {
      sinks.add(sink);
      return () => void sinks.delete(sink);
    },
  };
}
