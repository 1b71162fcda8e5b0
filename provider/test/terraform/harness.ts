// Launches a provider executable the way Terraform does (go-plugin's client side) and talks
// to it over gRPC with AutoMTLS, for tests.
//
// As go-plugin's client (client.go) does, it:
// - starts the executable with the caller's environment plus TF_PLUGIN_MAGIC_COOKIE,
//   PLUGIN_MIN_PORT / PLUGIN_MAX_PORT, PLUGIN_PROTOCOL_VERSIONS ("5,6", as Terraform offers),
//   PLUGIN_CLIENT_CERT (a fresh self-signed certificate, PEM) and PLUGIN_UNIX_SOCKET_DIR;
// - reads one line from stdout and parses it as the handshake;
// - trusts exactly the certificate from the handshake's sixth field (base64 DER, no padding),
//   presents its own, and expects the server name "localhost";
// - checks grpc.health.v1 for service "plugin", opens GRPCStdio/StreamStdio at once;
// - shuts down with GRPCController/Shutdown, then waits for the process to exit (killing it
//   after a grace period, as go-plugin's Kill does after two seconds).
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { generateCertificate, type GeneratedCertificate } from '../../src/terraform/plugin/cert.ts';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, parseHandshakeLine, type HandshakeFields } from '../../src/terraform/plugin/handshake.ts';
import type { ProviderHandlers, WriteStateBytesChunk } from '../../src/terraform/plugin/types.ts';
import { loadPluginServices } from '../../src/terraform/proto/load.ts';

export const PROVIDER_BIN = fileURLToPath(new URL('../../bin/terraform-provider-berth', import.meta.url));
/** A provider built on servePlugin with handlers that exercise the transport (see the file). */
export const FIXTURE_PROVIDER = fileURLToPath(new URL('./harness-provider.ts', import.meta.url));

export interface LaunchOptions {
  /** The executable; defaults to provider/bin/terraform-provider-berth. */
  command?: string;
  args?: string[];
  /** Added to (undefined: removed from) the inherited environment, after the plugin variables. */
  env?: Record<string, string | undefined>;
  /** The magic cookie value; null leaves the variable out. */
  cookie?: string | null;
  /** PLUGIN_PROTOCOL_VERSIONS; null leaves it out. Default "5,6". */
  protocolVersions?: string | null;
  /** The AutoMTLS client certificate; a fresh one by default, null for no AutoMTLS. */
  clientCert?: GeneratedCertificate | null;
  /** PLUGIN_UNIX_SOCKET_DIR; a fresh temporary folder by default, null leaves it out. */
  unixSocketDir?: string | null;
  minPort?: number;
  maxPort?: number;
  /** How long to wait for the handshake line (go-plugin: one minute). */
  startTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LogLine {
  '@level'?: string;
  '@message'?: string;
  [key: string]: unknown;
}

export interface PluginProcess {
  child: ChildProcess;
  handshakeLine: string;
  handshake: HandshakeFields;
  /** The certificate from the handshake (null without AutoMTLS). */
  serverCert: X509Certificate | null;
  clientCert: GeneratedCertificate | null;
  socketDir: string | undefined;
  /** Everything the plugin wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** stderr lines that parse as JSON (hclog). */
  logs(): LogLine[];
  exited: Promise<ExitInfo>;
  /** SIGKILL if still running, then clean up. */
  kill(): Promise<ExitInfo>;
}

export class HandshakeError extends Error {
  exit: ExitInfo | null;
  stdout: string;
  stderr: string;
  constructor(message: string, exit: ExitInfo | null, stdout: string, stderr: string) {
    super(`${message}\n--- stderr ---\n${stderr}`);
    this.exit = exit;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

function buildEnv(o: LaunchOptions, clientCert: GeneratedCertificate | null, socketDir: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The shebang's `env node` must find a Node that runs TypeScript: put ours first.
  env.PATH = `${join(process.execPath, '..')}:${env.PATH ?? ''}`;
  for (const k of Object.keys(env)) if (k.startsWith('PLUGIN_') || k === MAGIC_COOKIE_KEY) delete env[k];
  if (o.cookie !== null) env[MAGIC_COOKIE_KEY] = o.cookie ?? MAGIC_COOKIE_VALUE;
  env.PLUGIN_MIN_PORT = String(o.minPort ?? 10000);
  env.PLUGIN_MAX_PORT = String(o.maxPort ?? 25000);
  if (o.protocolVersions !== null) env.PLUGIN_PROTOCOL_VERSIONS = o.protocolVersions ?? '5,6';
  if (clientCert) env.PLUGIN_CLIENT_CERT = clientCert.certPem;
  if (socketDir) env.PLUGIN_UNIX_SOCKET_DIR = socketDir;
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function spawnPlugin(o: LaunchOptions, clientCert: GeneratedCertificate | null, socketDir: string | undefined) {
  const child = spawn(o.command ?? PROVIDER_BIN, o.args ?? [], {
    env: buildEnv(o, clientCert, socketDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the executable to completion (for cases where it must refuse to start). */
export async function runToExit(o: LaunchOptions = {}, timeoutMs = 20_000): Promise<ExitInfo & { stdout: string; stderr: string }> {
  const clientCert = o.clientCert === null ? null : (o.clientCert ?? generateCertificate());
  const socketDir = o.unixSocketDir === null ? undefined : (o.unixSocketDir ?? mkdtempSync(join(tmpdir(), 'berth-plugin-')));
  const p = spawnPlugin(o, clientCert, socketDir);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const exit = await p.exited;
  clearTimeout(timer);
  if (socketDir && o.unixSocketDir === undefined) rmSync(socketDir, { recursive: true, force: true });
  return { ...exit, stdout: p.stdout(), stderr: p.stderr() };
}

/** Starts the plugin and waits for a well-formed handshake line. */
export async function launchPlugin(o: LaunchOptions = {}): Promise<PluginProcess> {
  const clientCert = o.clientCert === null ? null : (o.clientCert ?? generateCertificate());
  const ownDir = o.unixSocketDir === undefined;
  const socketDir = o.unixSocketDir === null ? undefined : (o.unixSocketDir ?? mkdtempSync(join(tmpdir(), 'berth-plugin-')));
  const p = spawnPlugin(o, clientCert, socketDir);
  const cleanup = (): void => {
    if (ownDir && socketDir) rmSync(socketDir, { recursive: true, force: true });
  };
  void p.exited.then(cleanup);

  const line = await new Promise<string>((resolve, reject) => {
    let exit: ExitInfo | null = null;
    const timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new HandshakeError('timeout while waiting for plugin to start', exit, p.stdout(), p.stderr()));
    }, o.startTimeoutMs ?? 30_000);
    const check = (): void => {
      const nl = p.stdout().indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        p.child.stdout!.removeListener('data', check);
        resolve(p.stdout().slice(0, nl + 1));
      }
    };
    p.child.stdout!.on('data', check);
    void p.exited.then((e) => {
      exit = e;
      // Let the last stdout data arrive first.
      setImmediate(() => {
        if (p.stdout().includes('\n')) return;
        clearTimeout(timer);
        reject(new HandshakeError('plugin exited before we could connect', e, p.stdout(), p.stderr()));
      });
    });
  });

  const handshake = parseHandshakeLine(line);
  // go-plugin reads the certificate only from a sixth field longer than 50 characters.
  const serverCert = handshake.serverCert.length > 50 ? new X509Certificate(Buffer.from(handshake.serverCert, 'base64')) : null;
  return {
    child: p.child,
    handshakeLine: line,
    handshake,
    serverCert,
    clientCert,
    socketDir,
    stdout: p.stdout,
    stderr: p.stderr,
    logs: () =>
      p
        .stderr()
        .split('\n')
        .flatMap((l) => {
          try {
            const v = JSON.parse(l) as unknown;
            return v && typeof v === 'object' ? [v as LogLine] : [];
          } catch {
            return [];
          }
        }),
    exited: p.exited,
    kill: async () => {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      return p.exited;
    },
  };
}

// ---------------------------------------------------------------------------------------
// gRPC clients

/** grpc-js target for the handshake's address. */
export function targetOf(h: HandshakeFields): string {
  return h.network === 'unix' ? `unix://${h.address}` : h.address;
}

/** The credentials go-plugin's client uses: our certificate, trusting only the server's. */
export function pluginCredentials(p: Pick<PluginProcess, 'serverCert' | 'clientCert'>): grpc.ChannelCredentials {
  if (!p.serverCert || !p.clientCert) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(Buffer.from(p.serverCert.toString()), Buffer.from(p.clientCert.keyPem), Buffer.from(p.clientCert.certPem));
}

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // go-plugin's client verifies the server certificate for this name.
  'grpc.ssl_target_name_override': 'localhost',
  'grpc.default_authority': 'localhost',
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

type Loose<T> = T extends Buffer
  ? Uint8Array
  : T extends (infer U)[]
    ? Loose<U>[]
    : T extends object
      ? { [K in keyof T]?: Loose<T[K]> | null }
      : T;

type H = Required<ProviderHandlers>;
type UnaryKeys = {
  [K in keyof H]: ReturnType<H[K]> extends Promise<unknown> ? (Parameters<H[K]>[0] extends AsyncIterable<unknown> ? never : K) : never;
}[keyof H];
type StreamKeys = { [K in keyof H]: ReturnType<H[K]> extends AsyncIterable<unknown> ? K : never }[keyof H];

/** Promise-based tfplugin6 client: one method per RPC, named like the handlers. */
export type ProviderClient = {
  [K in UnaryKeys]: (req?: Loose<Parameters<H[K]>[0]>, options?: grpc.CallOptions) => Promise<Awaited<ReturnType<H[K]>>>;
} & {
  [K in StreamKeys]: (req?: Loose<Parameters<H[K]>[0]>, options?: grpc.CallOptions) => Promise<ReturnType<H[K]> extends AsyncIterable<infer E> ? E[] : never>;
} & {
  writeStateBytes(chunks: Loose<WriteStateBytesChunk>[], options?: grpc.CallOptions): ReturnType<H['writeStateBytes']>;
};

export interface PluginClients {
  provider: ProviderClient;
  health: { check(service: string, options?: grpc.CallOptions): Promise<string>; list(): Promise<Record<string, { status: string }>> };
  controller: { shutdown(options?: grpc.CallOptions): Promise<void> };
  /** The raw grpc-js clients, for calls outside the typed wrappers. */
  raw: { provider: grpc.Client; health: grpc.Client; controller: grpc.Client; stdio: grpc.Client };
  close(): void;
}

const services = loadPluginServices();

function camel(rpc: string): string {
  return `${rpc[0]!.toLowerCase()}${rpc.slice(1)}`;
}

type UnaryFn = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type ServerStreamFn = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;
type ClientStreamFn = (meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => grpc.ClientWritableStream<unknown>;

function defaultOptions(options?: grpc.CallOptions): grpc.CallOptions {
  return { deadline: Date.now() + 30_000, ...options };
}

function unary(client: grpc.Client, method: string, req: unknown, options?: grpc.CallOptions): Promise<unknown> {
  const fn = (client as unknown as Record<string, UnaryFn>)[method]!.bind(client);
  return new Promise((resolve, reject) => fn(req ?? {}, new grpc.Metadata(), defaultOptions(options), (err, res) => (err ? reject(err) : resolve(res))));
}

/** Connects grpc-js clients to a launched plugin (with other credentials to test refusals). */
export function connectClients(
  p: Pick<PluginProcess, 'handshake' | 'serverCert' | 'clientCert'>,
  credentials: grpc.ChannelCredentials = pluginCredentials(p),
  channelOptions: grpc.ChannelOptions = CHANNEL_OPTIONS,
): PluginClients {
  const target = targetOf(p.handshake);
  const make = (def: grpc.ServiceDefinition, name: string, channelOverride?: grpc.Channel): grpc.Client => {
    const Ctor = grpc.makeGenericClientConstructor(def, name);
    return channelOverride ? new Ctor(target, credentials, { channelOverride }) : new Ctor(target, credentials, channelOptions);
  };
  const providerClient = make(services.provider, 'Provider');
  const channel = providerClient.getChannel() as grpc.Channel;
  const health = make(services.health, 'Health', channel);
  const controller = make(services.controller, 'GRPCController', channel);
  const stdio = make(services.stdio, 'GRPCStdio', channel);

  const provider: Record<string, unknown> = {};
  for (const [rpc, def] of Object.entries(services.provider)) {
    if (def.requestStream && !def.responseStream) {
      provider[camel(rpc)] = (chunks: unknown[], options?: grpc.CallOptions) =>
        new Promise((resolve, reject) => {
          const fn = (providerClient as unknown as Record<string, ClientStreamFn>)[rpc]!.bind(providerClient);
          const call = fn(new grpc.Metadata(), defaultOptions(options), (err, res) => (err ? reject(err) : resolve(res)));
          for (const c of chunks) call.write(c);
          call.end();
        });
    } else if (def.responseStream) {
      provider[camel(rpc)] = (req: unknown, options?: grpc.CallOptions) =>
        new Promise((resolve, reject) => {
          const fn = (providerClient as unknown as Record<string, ServerStreamFn>)[rpc]!.bind(providerClient);
          const events: unknown[] = [];
          const call = fn(req ?? {}, new grpc.Metadata(), defaultOptions(options));
          call.on('data', (e) => events.push(e));
          call.on('error', reject);
          call.on('end', () => resolve(events));
        });
    } else {
      provider[camel(rpc)] = (req: unknown, options?: grpc.CallOptions) => unary(providerClient, rpc, req, options);
    }
  }
  return {
    provider: provider as unknown as ProviderClient,
    health: {
      check: async (service, options) => ((await unary(health, 'Check', { service }, options)) as { status: string }).status,
      list: async () => ((await unary(health, 'List', {})) as { statuses: Record<string, { status: string }> }).statuses,
    },
    controller: {
      shutdown: async (options) => void (await unary(controller, 'Shutdown', {}, options)),
    },
    raw: { provider: providerClient, health, controller, stdio },
    close: () => {
      for (const c of [health, controller, stdio, providerClient]) c.close();
    },
  };
}

// ---------------------------------------------------------------------------------------
// All together

export interface RunningProvider extends PluginProcess, PluginClients {
  /** Data received on GRPCStdio (what the plugin wrote to stdout after the handshake). */
  stdio: { channel: string; data: Buffer }[];
  /** GRPCController/Shutdown, then wait for the exit (SIGKILL after `graceMs`, as go-plugin). */
  shutdown(graceMs?: number): Promise<ExitInfo & { killed: boolean }>;
}

/** Launch + connect + health check + stdio stream: a provider ready for calls. */
export async function startProvider(o: LaunchOptions = {}): Promise<RunningProvider> {
  const proc = await launchPlugin(o);
  let clients: PluginClients | undefined;
  try {
    clients = connectClients(proc);
    const status = await clients.health.check('plugin', { deadline: Date.now() + 10_000 });
    if (status !== 'SERVING') throw new Error(`plugin health is ${status}`);
  } catch (err) {
    clients?.close();
    await proc.kill();
    throw err;
  }
  const c = clients;
  const stdio: { channel: string; data: Buffer }[] = [];
  const stream = (c.raw.stdio as unknown as Record<string, (req: unknown) => grpc.ClientReadableStream<{ channel: string; data: Buffer }>>)
    .StreamStdio!.call(c.raw.stdio, {});
  stream.on('data', (d) => stdio.push(d));
  stream.on('error', () => {});

  return {
    ...proc,
    ...c,
    stdio,
    shutdown: async (graceMs = 2_000) => {
      try {
        await c.controller.shutdown({ deadline: Date.now() + 5_000 });
      } catch {
        // go-plugin ignores errors from Shutdown too
      }
      c.close();
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        proc.child.kill('SIGKILL');
      }, graceMs);
      const exit = await proc.exited;
      clearTimeout(timer);
      return { ...exit, killed };
    },
  };
}
