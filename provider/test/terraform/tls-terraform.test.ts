// An https endpoint signed by a private CA: trusted through ca_certificate, accepted with
// insecure, refused otherwise. The registry sits behind a TLS-terminating proxy (as it would in
// production), using a certificate for localhost that the test makes.
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import test from 'ava';
import { BerthClient } from '@berth/registry-server/client';
import { generateCertificate } from '../../src/terraform/plugin/cert.ts';
import { startRegistry } from '../../../test/support/registry.ts';
import { testAdmin } from '../../../test/support/auth.ts';
import { reportTerraformAvailability, terraformAvailable, terraformWorkspace } from './terraform-cli.ts';

const available = terraformAvailable;
reportTerraformAvailability();
const maybe = available ? test.serial : test.serial.skip;

async function tlsProxy(target: string): Promise<{ url: string; caPem: string; server: Server }> {
  const ca = generateCertificate({ commonName: 'Berth test CA', dnsNames: ['localhost'], isCA: true });
  const leaf = generateCertificate({ commonName: 'localhost', dnsNames: ['localhost'], isCA: false, issuer: ca });
  const server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
    const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `https://localhost:${port}`, caPem: ca.certPem, server };
}

function workspace(provider: string) {
  const ws = terraformWorkspace('unused', 'berth-tf-tls-');
  ws.writeRaw(`terraform {\n  required_providers {\n    berth = { source = "berth/berth" }\n  }\n}\n${provider}\nresource "berth_repository" "x" {\n  repository_name = "tls/app"\n}\n`);
  return ws;
}

maybe('an https endpoint with a private CA: trusted by ca_certificate, or insecure; refused otherwise', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const proxy = await tlsProxy(reg.url);
  t.teardown(() => new Promise<void>((resolve) => proxy.server.close(() => resolve())));
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });

  const refused = workspace(`provider "berth" {\n  endpoint = "${proxy.url}"\n}\n`);
  t.teardown(() => refused.cleanup());
  let r = await refused.run(['apply', '-auto-approve']);
  t.is(r.code, 1, r.out);
  t.regex(r.out, /certificate|fetch failed/i);

  const trusted = workspace(`provider "berth" {\n  endpoint       = "${proxy.url}"\n  ca_certificate = ${JSON.stringify(proxy.caPem)}\n}\n`);
  t.teardown(() => trusted.cleanup());
  r = await trusted.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.is((await api.repositories.read({ repositoryName: 'tls/app' })).repositoryName, 'tls/app');
  r = await trusted.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);

  const insecure = workspace(`provider "berth" {\n  endpoint = "${proxy.url}"\n  insecure = true\n}\n`);
  t.teardown(() => insecure.cleanup());
  r = await insecure.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  r = await insecure.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);
});
