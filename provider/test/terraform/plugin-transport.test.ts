import { fileURLToPath } from 'node:url';
// The go-plugin transport of terraform-provider-berth, driven the way Terraform drives it.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { generateCertificate } from '../../src/terraform/plugin/cert.ts';
import {
  connectClients,
  FIXTURE_PROVIDER,
  HandshakeError,
  launchPlugin,
  pluginCredentials,
  runToExit,
  startProvider,
} from './harness.ts';

const fixture = { command: process.execPath, args: [FIXTURE_PROVIDER] };

function code(err: unknown): number | undefined {
  return (err as grpc.ServiceError | undefined)?.code;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

test('handshake line: go-plugin format, protocol 6, unix socket in PLUGIN_UNIX_SOCKET_DIR, base64 DER certificate without padding', async (t) => {
  const p = await launchPlugin();
  t.teardown(() => p.kill());
  const line = p.handshakeLine;
  t.regex(line, /^1\|6\|unix\|[^|]+\|grpc\|[A-Za-z0-9+/]{51,}\n$/);
  t.false(line.includes('='), 'RawStdEncoding: no padding');
  const fields = line.trimEnd().split('|');
  t.is(fields.length, 6);
  t.is(p.handshake.address, join(p.socketDir!, p.handshake.address.split('/').pop()!));
  t.regex(p.handshake.address, /\/plugin\d+$/);
  t.true(statSync(p.handshake.address).isSocket());
  // The sixth field decodes to the DER certificate the server presents.
  const cert = p.serverCert!;
  t.truthy(cert);
  t.is(cert.raw.toString('base64').replace(/=+$/, ''), fields[5]!);
  t.true(cert.checkHost('localhost') === 'localhost', 'subjectAltName DNS:localhost');
  t.true(cert.ca);
  t.true(cert.verify(cert.publicKey), 'self-signed');
  t.deepEqual(cert.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  t.true(new Date(cert.validFrom).getTime() <= Date.now());
});

test('negotiation: picks 6 whatever the order Terraform lists its versions in', async (t) => {
  for (const versions of ['6,5', '5,6', ' 4 , 6 ']) {
    const p = await launchPlugin({ protocolVersions: versions });
    t.is(p.handshake.appVersion, 6, versions);
    await p.kill();
  }
});

test('started by hand (no magic cookie): explains on stderr, exits 1, writes nothing to stdout', async (t) => {
  for (const cookie of [null, 'wrong']) {
    const r = await runToExit({ cookie });
    t.is(r.code, 1);
    t.is(r.stdout, '');
    t.regex(r.stderr, /^This binary is a plugin\. These are not meant to be executed directly\./);
    t.regex(r.stderr, /terraform init/);
    t.regex(r.stderr, /README/);
  }
});

test('refuses a host that does not offer protocol 6', async (t) => {
  for (const versions of ['5', '4,5', 'x']) {
    const r = await runToExit({ protocolVersions: versions });
    t.is(r.code, 1, versions);
    t.is(r.stdout, '', 'no handshake line');
    t.regex(r.stderr, /protocol 6/);
    t.regex(r.stderr, /refusing to start/);
  }
  await t.throwsAsync(launchPlugin({ protocolVersions: '5' }), { instanceOf: HandshakeError, message: /plugin exited before we could connect/ });
});

test('health: service "plugin" and the server as a whole are SERVING; unknown services NOT_FOUND', async (t) => {
  const p = await startProvider();
  t.teardown(() => p.kill());
  t.is(await p.health.check('plugin'), 'SERVING');
  t.is(await p.health.check(''), 'SERVING');
  const err = await t.throwsAsync(p.health.check('nope'));
  t.is(code(err), grpc.status.NOT_FOUND);
  t.deepEqual(await p.health.list(), { '': { status: 'SERVING' }, plugin: { status: 'SERVING' } });
});

const STUB_PROVIDER = fileURLToPath(new URL('./stub-provider.ts', import.meta.url));
const stub = { command: process.execPath, args: [STUB_PROVIDER] };

test('GetMetadata and GetProviderSchema round trip', async (t) => {
  const p = await startProvider(stub);
  t.teardown(() => p.kill());
  const meta = await p.provider.getMetadata();
  t.deepEqual(meta.diagnostics, []);
  t.true(meta.server_capabilities?.get_provider_schema_optional);
  const schema = await p.provider.getProviderSchema();
  t.deepEqual(schema.diagnostics, []);
  t.truthy(schema.provider?.block, 'a provider schema with a block, as Terraform requires');
  t.deepEqual(schema.provider?.block.attributes, []);
  t.is(schema.provider?.block.description_kind, 'PLAIN');
  t.deepEqual(schema.resource_schemas, {});
  t.deepEqual(schema.data_source_schemas, {});
  t.is(schema.provider_meta as unknown, null, 'unset message fields decode as null');
  t.true(schema.server_capabilities?.plan_destroy);
  // GetFunctions without a handler answers the schema's functions.
  t.deepEqual(await p.provider.getFunctions(), { functions: {}, diagnostics: [] });
});

test('optional RPCs without a handler answer UNIMPLEMENTED; required ones have defaults', async (t) => {
  const p = await startProvider(stub);
  t.teardown(() => p.kill());
  for (const call of [
    () => p.provider.getResourceIdentitySchemas(),
    () => p.provider.moveResourceState({ target_type_name: 'x' }),
    () => p.provider.openEphemeralResource({ type_name: 'x' }),
    () => p.provider.callFunction({ name: 'x' }),
    () => p.provider.listResource({ type_name: 'x' }),
    () => p.provider.invokeAction({ action_type: 'x' }),
    () => p.provider.writeStateBytes([{ bytes: Buffer.from('x') }]),
  ]) {
    const err = await t.throwsAsync(call());
    t.is(code(err), grpc.status.UNIMPLEMENTED, err?.message);
  }
  // No-op defaults for validation and configuration.
  t.deepEqual(await p.provider.validateProviderConfig({ config: { msgpack: Buffer.from([0x80]) } }), { diagnostics: [] });
  t.deepEqual(await p.provider.configureProvider({ terraform_version: '1.11.4' }), { diagnostics: [] });
  t.deepEqual(await p.provider.stopProvider(), { Error: '' });
  // Resource RPCs without a handler: an error diagnostic naming the RPC and type.
  const read = await p.provider.readResource({ type_name: 'berth_repository' });
  t.is(read.diagnostics?.length, 1);
  t.is(read.diagnostics?.[0]?.severity, 'ERROR');
  t.regex(read.diagnostics?.[0]?.detail ?? '', /ReadResource \(type "berth_repository"\)/);
});

test('mTLS: only the host holding PLUGIN_CLIENT_CERT gets in', async (t) => {
  const p = await startProvider();
  t.teardown(() => p.kill());
  const attempt = async (credentials: grpc.ChannelCredentials): Promise<number | undefined> => {
    const c = connectClients(p, credentials);
    try {
      await c.health.check('plugin', { deadline: Date.now() + 5_000 });
      return grpc.status.OK;
    } catch (err) {
      return code(err);
    } finally {
      c.close();
    }
  };
  const serverCa = Buffer.from(p.serverCert!.toString());
  t.is(await attempt(pluginCredentials(p)), grpc.status.OK, 'the real client');
  t.not(await attempt(grpc.credentials.createInsecure()), grpc.status.OK, 'plaintext');
  t.not(await attempt(grpc.credentials.createSsl(serverCa)), grpc.status.OK, 'TLS without a client certificate');
  const stranger = generateCertificate();
  t.not(await attempt(grpc.credentials.createSsl(serverCa, Buffer.from(stranger.keyPem), Buffer.from(stranger.certPem))), grpc.status.OK, 'another self-signed certificate');
  // A certificate the pinned one signed passes TLS chain verification but not the pin.
  const issued = generateCertificate({ issuer: p.clientCert!, commonName: 'impostor', isCA: false });
  t.is(
    await attempt(grpc.credentials.createSsl(serverCa, Buffer.from(issued.keyPem), Buffer.from(issued.certPem))),
    grpc.status.UNAUTHENTICATED,
    'a certificate issued by the client certificate',
  );
  // The client must also refuse a server it does not trust.
  const other = generateCertificate();
  t.not(
    await attempt(grpc.credentials.createSsl(Buffer.from(other.certPem), Buffer.from(p.clientCert!.keyPem), Buffer.from(p.clientCert!.certPem))),
    grpc.status.OK,
    'a client trusting another server certificate',
  );
  t.is(await p.health.check('plugin'), 'SERVING', 'still serving afterwards');
});

test('without PLUGIN_CLIENT_CERT it serves plaintext and leaves the certificate field empty, as go-plugin', async (t) => {
  const p = await launchPlugin({ clientCert: null });
  t.teardown(() => p.kill());
  t.regex(p.handshakeLine, /^1\|6\|unix\|[^|]+\|grpc\|\n$/);
  const c = connectClients(p, grpc.credentials.createInsecure(), {});
  t.teardown(() => c.close());
  t.is(await c.health.check('plugin'), 'SERVING');
});

test('GRPCController/Shutdown: exits 0 promptly, removes the socket, stdout held only the handshake line', async (t) => {
  const p = await startProvider();
  t.teardown(() => p.kill());
  await p.provider.getProviderSchema();
  t.true(existsSync(p.handshake.address));
  const started = Date.now();
  const exit = await p.shutdown();
  t.false(exit.killed, 'exited by itself, before go-plugin would kill it');
  t.is(exit.code, 0);
  t.true(Date.now() - started < 2_000);
  t.false(existsSync(p.handshake.address), 'socket removed');
  t.is(p.stdout(), p.handshakeLine);
  const messages = p.logs().map((l) => l['@message']);
  t.true(messages.includes('plugin shutting down'));
  for (const l of p.logs()) t.regex(String(l['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'hclog timestamp, six fractional digits');
});

test('SIGINT is ignored (Terraform stops providers itself); SIGTERM shuts down gracefully', async (t) => {
  const p = await startProvider({ env: { BERTH_LOG_LEVEL: 'trace' } });
  t.teardown(() => p.kill());
  p.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 300));
  t.is(await p.health.check('plugin'), 'SERVING');
  t.true(p.logs().some((l) => l['@message'] === 'plugin received interrupt signal, ignoring'));
  p.child.kill('SIGTERM');
  const exit = await withTimeout(p.exited, 5_000, 'exit after SIGTERM');
  t.is(exit.code, 0);
  t.false(existsSync(p.handshake.address));
  p.close();
});

test('TCP: BERTH_PLUGIN_NETWORK=tcp listens on 127.0.0.1 within PLUGIN_MIN_PORT..PLUGIN_MAX_PORT', async (t) => {
  const p = await startProvider({ env: { BERTH_PLUGIN_NETWORK: 'tcp' }, minPort: 20000, maxPort: 20100 });
  t.teardown(() => p.kill());
  t.is(p.handshake.network, 'tcp');
  const [host, port] = p.handshake.address.split(':');
  t.is(host, '127.0.0.1');
  t.true(Number(port) >= 20000 && Number(port) <= 20100);
  t.is(await p.health.check('plugin'), 'SERVING');
  t.deepEqual((await p.provider.getProviderSchema()).diagnostics, []);
  t.is((await p.shutdown()).code, 0);
});

test('falls back to TCP when a unix socket cannot be made there', async (t) => {
  const deep = mkdtempSync(join(tmpdir(), `berth-${'d'.repeat(120)}-`));
  t.teardown(() => rmSync(deep, { recursive: true, force: true }));
  const p = await startProvider({ unixSocketDir: deep, minPort: 0, maxPort: 0 });
  t.teardown(() => p.kill());
  t.is(p.handshake.network, 'tcp');
  t.is(await p.health.check('plugin'), 'SERVING');
  t.is((await p.shutdown()).code, 0);
});

test('PLUGIN_MULTIPLEX_GRPC: a seventh field says multiplexing is not supported', async (t) => {
  const p = await launchPlugin({ env: { PLUGIN_MULTIPLEX_GRPC: 'true' } });
  t.teardown(() => p.kill());
  t.regex(p.handshakeLine, /\|false\n$/);
  t.is(p.handshake.multiplex, false);
});

// ---------------------------------------------------------------------------------------
// Handler edge cases, through the fixture provider (harness-provider.ts)

test('a handler that throws becomes an error diagnostic; the plugin keeps serving', async (t) => {
  const p = await startProvider(fixture);
  t.teardown(() => p.kill());
  const res = await p.provider.readResource({ type_name: 'berth_boom' });
  t.is(res.diagnostics?.length, 1);
  const d = res.diagnostics![0]!;
  t.is(d.severity, 'ERROR');
  t.is(d.summary, 'Unexpected error in ReadResource');
  t.regex(d.detail ?? '', /boom: the handler failed/);
  t.falsy(res.new_state);
  t.is(await p.health.check('plugin'), 'SERVING');
  t.true(p.logs().some((l) => l['@message'] === 'handler failed' && l.tf_rpc === 'ReadResource' && l['@level'] === 'error'));
});

test('a response that cannot be encoded becomes an error diagnostic', async (t) => {
  const p = await startProvider(fixture);
  t.teardown(() => p.kill());
  const res = await p.provider.importResourceState({ type_name: 'berth_boom', id: 'x' });
  t.deepEqual(res.imported_resources, []);
  t.is(res.diagnostics?.[0]?.summary, 'Invalid ImportResourceState response');
});

test('a streaming handler that throws ends its stream with a diagnostic event', async (t) => {
  const p = await startProvider(fixture);
  t.teardown(() => p.kill());
  const events = await p.provider.listResource({ type_name: 'berth_x' });
  t.is(events.length, 2);
  t.is(events[0]!.display_name, 'first');
  t.is(events[1]!.diagnostic?.[0]?.summary, 'Unexpected error in ListResource');
});

test('StopProvider aborts the signal of calls in flight', async (t) => {
  const p = await startProvider(fixture);
  t.teardown(() => p.kill());
  const planning = p.provider.planResourceChange({ type_name: 'berth_slow' });
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(await p.provider.stopProvider(), { Error: '' });
  const res = await withTimeout(planning, 5_000, 'PlanResourceChange after StopProvider');
  t.is(res.diagnostics?.[0]?.summary, 'Stopped');
  t.regex(res.diagnostics?.[0]?.detail ?? '', /asked the provider to stop/);
  // Calls after the stop get a fresh signal.
  const later = p.provider.planResourceChange({ type_name: 'berth_slow' }, { deadline: Date.now() + 300 });
  t.is(code(await t.throwsAsync(later)), grpc.status.DEADLINE_EXCEEDED);
});

test('stdout written by provider code goes to GRPCStdio, never to the real stdout', async (t) => {
  const p = await startProvider(fixture);
  t.teardown(() => p.kill());
  await new Promise((r) => setTimeout(r, 100)); // let the stdio stream attach
  await p.provider.applyResourceChange({ type_name: 'berth_boom', planned_state: { msgpack: Buffer.from([0x80]) } });
  await new Promise((r) => setTimeout(r, 200));
  t.is(p.stdout(), p.handshakeLine);
  const text = p.stdio.map((d) => d.data.toString()).join('');
  t.true(p.stdio.every((d) => d.channel === 'STDOUT'));
  t.is(text, 'stray output from a handler\nmore stray output\n');
  t.is((await p.shutdown()).code, 0);
  t.is(p.stdout(), p.handshakeLine);
});

test('GetFunctions defaults to the functions of GetProviderSchema; CallFunction round trip', async (t) => {
  const p = await startProvider(fixture);
  t.teardown(() => p.kill());
  const fns = await p.provider.getFunctions();
  t.deepEqual(Object.keys(fns.functions ?? {}), ['echo']);
  t.is(fns.functions?.echo?.return.type.toString(), '"string"');
  const res = await p.provider.callFunction({ name: 'echo', arguments: [{ msgpack: Buffer.from([0xa1, 0x78]) }] });
  t.deepEqual(res.result?.msgpack, Buffer.from([0xa1, 0x78]));
  t.falsy(res.error);
});

test('harness: refuses to connect where go-plugin would (plugin exits, no handshake)', async (t) => {
  const err = await t.throwsAsync<HandshakeError>(launchPlugin({ cookie: null }));
  t.is(err?.exit?.code, 1);
  t.regex(err?.stderr ?? '', /not meant to be executed directly/);
});

test('many concurrent calls on one connection', async (t) => {
  const p = await startProvider();
  t.teardown(() => p.kill());
  const results = await Promise.all(Array.from({ length: 50 }, () => p.provider.getProviderSchema()));
  t.true(results.every((r) => r.provider?.block !== null));
});

