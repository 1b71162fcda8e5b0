// Unit tests of the transport's pure pieces: DER / X.509, handshake, logging, proto loading.
import { spawnSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  decodeHandshakeCert,
  der,
  generateCertificate,
  handshakeCertEncoding,
  namedBits,
  oid,
  smallInteger,
  time,
  unsignedInteger,
} from '../../src/terraform/plugin/cert.ts';
import { attributePath, step, timestampFromDate } from '../../src/terraform/plugin/diagnostics.ts';
import {
  formatHandshakeLine,
  hasMagicCookie,
  MAGIC_COOKIE_KEY,
  negotiateProtocol,
  parseHandshakeLine,
  portRange,
} from '../../src/terraform/plugin/handshake.ts';
import { createLogger, hclogTimestamp, levelFromEnv } from '../../src/terraform/plugin/log.ts';
import { PROVIDER_RPCS } from '../../src/terraform/plugin/provider-service.ts';
import { loadPluginServices } from '../../src/terraform/proto/load.ts';

test('DER primitives', (t) => {
  t.is(der(0x04, Buffer.alloc(3)).toString('hex'), '0403000000');
  t.is(der(0x04, Buffer.alloc(200)).subarray(0, 3).toString('hex'), '0481c8');
  t.is(der(0x04, Buffer.alloc(300)).subarray(0, 4).toString('hex'), '0482012c');
  t.is(oid('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
  t.is(oid('2.5.29.17').toString('hex'), '0603551d11');
  t.is(unsignedInteger(Buffer.from([0x80, 1])).toString('hex'), '0203008001');
  t.is(unsignedInteger(Buffer.from([0, 0, 5])).toString('hex'), '020105');
  t.is(smallInteger(2).toString('hex'), '020102');
  t.is(smallInteger(0).toString('hex'), '020100');
  t.is(namedBits([0, 5]).toString('hex'), '03020284', 'digitalSignature + keyCertSign');
  t.is(namedBits([0]).toString('hex'), '03020780');
  t.is(time(new Date(Date.UTC(2049, 11, 31, 23, 59, 58))).toString('latin1').slice(2), '491231235958Z');
  t.is(time(new Date(Date.UTC(2050, 0, 1, 0, 0, 0))).toString('latin1').slice(2), '20500101000000Z');
  t.is(time(new Date(Date.UTC(2050, 0, 1)))[0], 0x18, 'GeneralizedTime from 2050');
});

test('generated certificates parse and verify for every curve, like go-plugin\'s', (t) => {
  for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
    const c = generateCertificate({ curve });
    const x = new X509Certificate(c.certPem);
    t.true(x.raw.equals(c.der), curve);
    t.true(x.verify(x.publicKey), `${curve} self-signed`);
    t.true(x.checkIssued(x));
    t.is(x.checkHost('localhost'), 'localhost');
    t.is(x.subjectAltName, 'DNS:localhost');
    t.true(x.ca);
    t.true(x.publicKey.equals(createPublicKey(c.privateKey)), 'the certificate holds the generated key');
    t.true(new Date(x.validTo).getUTCFullYear() >= new Date().getUTCFullYear() + 29, 'valid for 30 years, as go-plugin');
  }
  const issued = generateCertificate({ issuer: generateCertificate(), isCA: false });
  t.false(new X509Certificate(issued.certPem).ca);
});

test('certificates are accepted by OpenSSL as TLS server and client trust anchors', (t) => {
  if (spawnSync('openssl', ['version']).status !== 0) {
    t.log('openssl not installed: skipped');
    t.pass();
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'berth-cert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const curve of ['P-256', 'P-521'] as const) {
    const f = join(dir, `${curve}.pem`);
    writeFileSync(f, generateCertificate({ curve }).certPem);
    for (const purpose of ['sslserver', 'sslclient']) {
      const r = spawnSync('openssl', ['verify', '-CAfile', f, '-purpose', purpose, f], { encoding: 'utf8' });
      t.is(r.status, 0, `${curve} ${purpose}: ${r.stdout}${r.stderr}`);
    }
  }
});

test('handshake certificate field: base64 of the DER without padding, decodable either way', (t) => {
  for (let i = 0; i < 6; i++) {
    const c = generateCertificate();
    const field = handshakeCertEncoding(c.der);
    t.notRegex(field, /[=\n|]/);
    t.true(field.length > 50);
    t.true(decodeHandshakeCert(field).equals(c.der));
  }
});

test('handshake line: format and parse like go-plugin', (t) => {
  const line = formatHandshakeLine({ coreVersion: 1, appVersion: 6, network: 'unix', address: '/tmp/plugin1', protocol: 'grpc', serverCert: 'abc' });
  t.is(line, '1|6|unix|/tmp/plugin1|grpc|abc\n');
  t.deepEqual(parseHandshakeLine(line), { coreVersion: 1, appVersion: 6, network: 'unix', address: '/tmp/plugin1', protocol: 'grpc', serverCert: 'abc' });
  t.is(formatHandshakeLine({ coreVersion: 1, appVersion: 6, network: 'tcp', address: '127.0.0.1:1', protocol: 'grpc', serverCert: '', multiplex: false }), '1|6|tcp|127.0.0.1:1|grpc||false\n');
  t.is(parseHandshakeLine('1|5|tcp|127.0.0.1:9\n').protocol, 'netrpc', 'old plugins: net/rpc');
  t.throws(() => parseHandshakeLine('hello'), { message: /Unrecognized remote plugin message/ });
  t.throws(() => parseHandshakeLine('1|6|pipe|x|grpc'), { message: /unknown address type/ });
});

test('magic cookie and protocol negotiation', (t) => {
  t.false(hasMagicCookie({}));
  t.false(hasMagicCookie({ [MAGIC_COOKIE_KEY]: 'x' }));
  t.true(hasMagicCookie({ [MAGIC_COOKIE_KEY]: 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2' }));
  t.like(negotiateProtocol({ PLUGIN_PROTOCOL_VERSIONS: '5,6' }), { ok: true, version: 6, offered: [5, 6] });
  t.like(negotiateProtocol({ PLUGIN_PROTOCOL_VERSIONS: '6' }), { ok: true, version: 6 });
  t.like(negotiateProtocol({}), { ok: true, version: 6, offered: null });
  const refused = negotiateProtocol({ PLUGIN_PROTOCOL_VERSIONS: '4,5' });
  t.false(refused.ok);
  if (!refused.ok) t.regex(refused.message, /offered 4, 5/);
});

test('port range from PLUGIN_MIN_PORT / PLUGIN_MAX_PORT', (t) => {
  t.deepEqual(portRange({}), { min: 0, max: 0 });
  t.deepEqual(portRange({ PLUGIN_MIN_PORT: '10000', PLUGIN_MAX_PORT: '25000' }), { min: 10000, max: 25000 });
  t.throws(() => portRange({ PLUGIN_MIN_PORT: '3', PLUGIN_MAX_PORT: '2' }), { message: /greater than PLUGIN_MAX_PORT/ });
  t.throws(() => portRange({ PLUGIN_MIN_PORT: 'x' }), { message: /PLUGIN_MIN_PORT/ });
});

test('hclog JSON lines: six fractional digits in @timestamp, levels, fields', (t) => {
  t.is(hclogTimestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))), '2026-01-02T03:04:05.678000Z');
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', module: 'm', write: (l) => lines.push(l) });
  log.trace('hidden');
  log.with({ a: 1 }).info('shown', { err: new Error('x'), bytes: Buffer.alloc(3) });
  t.is(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.like(entry, { '@level': 'info', '@message': 'shown', '@module': 'm', a: 1, bytes: '<3 bytes>' });
  t.regex(String(entry.err), /^Error: x/);
  t.true(lines[0]!.endsWith('\n'));
  t.is(levelFromEnv({}), 'info');
  t.is(levelFromEnv({ TF_LOG: 'JSON' }), 'trace');
  t.is(levelFromEnv({ TF_LOG: 'debug', TF_LOG_PROVIDER: 'ERROR' }), 'error');
  t.is(levelFromEnv({ BERTH_LOG_LEVEL: 'off', TF_LOG: 'trace' }), 'off');
});

test('protocol definitions: every tfplugin6 RPC is known to the dispatcher, with its streaming shape', (t) => {
  const services = loadPluginServices();
  const rpcs = Object.keys(services.provider).sort();
  t.deepEqual(rpcs, Object.keys(PROVIDER_RPCS).sort());
  for (const [rpc, def] of Object.entries(services.provider)) {
    const kind = def.requestStream ? 'client-stream' : def.responseStream ? 'server-stream' : 'unary';
    t.is(PROVIDER_RPCS[rpc as keyof typeof PROVIDER_RPCS].kind, kind, rpc);
    t.is(def.path, `/tfplugin6.Provider/${rpc}`);
  }
  t.is(services.health.Check?.path, '/grpc.health.v1.Health/Check');
  t.is(services.controller.Shutdown?.path, '/plugin.GRPCController/Shutdown');
  t.is(services.stdio.StreamStdio?.path, '/plugin.GRPCStdio/StreamStdio');
});

test('protocol encoding: field numbers on the wire', (t) => {
  const p = loadPluginServices().provider;
  // Diagnostic{severity=1 ERROR, summary=2}; PlanResourceChange.Response.requires_replace=2 of
  // AttributePath{steps=1 of Step{attribute_name=1 | element_key_int=3}}.
  t.is(p.ValidateProviderConfig!.responseSerialize({ diagnostics: [{ severity: 'ERROR', summary: 'x' }] }).toString('hex'), '12050801120178');
  t.is(p.PlanResourceChange!.responseSerialize({ requires_replace: [{ steps: [{ attribute_name: 'a' }, { element_key_int: 3 }] }] }).toString('hex'), '12090a030a01610a021803');
  // StopProvider.Response keeps its capitalised field name.
  t.is(p.StopProvider!.responseSerialize({ Error: 'e' }).toString('hex'), '0a0165');
  const decoded = p.ReadResource!.requestDeserialize(p.ReadResource!.requestSerialize({ type_name: 't', current_state: { msgpack: Buffer.from([0x80]) } }));
  t.like(decoded, { type_name: 't', provider_meta: null, client_capabilities: null });
});

test('diagnostic helpers', (t) => {
  t.deepEqual(attributePath('tags', 0, step.key('k')), {
    steps: [{ attribute_name: 'tags' }, { element_key_int: 0 }, { element_key_string: 'k' }],
  });
  t.deepEqual(timestampFromDate(new Date(1_500)), { seconds: 1, nanos: 500_000_000 });
});
