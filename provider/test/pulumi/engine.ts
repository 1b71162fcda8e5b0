// Talks to @pulumi/pulumi's dynamic-provider gRPC server the way the Pulumi engine does: start
// the SDK's own server process, read its port, call the ResourceProvider service with
// properties carrying the provider serialized exactly as the SDK serializes it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { repoRoot } from '../../../test/support/registry.ts';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
const provrpc = require('@pulumi/pulumi/proto/provider_grpc_pb');
const provproto = require('@pulumi/pulumi/proto/provider_pb');
const structproto = require('google-protobuf/google/protobuf/struct_pb');

export const providerKey = '__provider';
export const unknownValue = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

/** The SDK's own serialization of a dynamic provider (what pulumi.dynamic.Resource stores). */
export async function serializeProvider(provider: pulumi.dynamic.ResourceProvider): Promise<{ text: string; containsSecrets: boolean }> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return { text: sf.text, containsSecrets: sf.containsSecrets };
}

type Props = Record<string, unknown>;

export interface Engine {
  configure(args: Props): Promise<void>;
  check(olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(id: string, olds: Props, news: Props): Promise<{ changes: number; replaces: string[]; deleteBeforeReplace: boolean }>;
  create(props: Props): Promise<{ id: string; properties: Props }>;
  read(id: string, props: Props): Promise<{ id: string; properties: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ properties: Props }>;
  delete(id: string, props: Props): Promise<void>;
  close(): Promise<void>;
}

export async function startDynamicProviderServer(cwd = repoRoot): Promise<Engine> {
  const entry = join(repoRoot, 'node_modules', '@pulumi', 'pulumi', 'cmd', 'dynamic-provider', 'index.js');
  // The engine passes its own address; the dynamic provider only requires that one is given.
  const child: ChildProcess = spawn(process.execPath, [entry, '127.0.0.1:1'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line && /^\d+$/.test(line.trim())) resolve(Number(line.trim()));
    });
    child.on('exit', (code) => reject(new Error(`dynamic provider exited (${code}): ${stderr}`)));
  });
  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = <T>(method: string, req: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      client[method](req, (err: Error | null, res: T) => (err ? reject(new Error(`${method}: ${err.message}\n${stderr}`)) : resolve(res)));
    });
  const struct = (p: Props) => structproto.Struct.fromJavaScript(p);
  return {
    async configure(args) {
      const req = new provproto.ConfigureRequest();
      req.setArgs(struct(args));
      await call('configure', req);
    },
    async check(olds, news) {
      const req = new provproto.CheckRequest();
      req.setUrn('urn:pulumi:test::test::berth:x::r');
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res = await call<any>('check', req);
      return {
        inputs: res.getInputs().toJavaScript(),
        failures: res.getFailuresList().map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(id, olds, news) {
      const req = new provproto.DiffRequest();
      req.setId(id);
      req.setUrn('urn:pulumi:test::test::berth:x::r');
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res = await call<any>('diff', req);
      return { changes: res.getChanges(), replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
    },
    async create(props) {
      const req = new provproto.CreateRequest();
      req.setUrn('urn:pulumi:test::test::berth:x::r');
      req.setProperties(struct(props));
      const res = await call<any>('create', req);
      return { id: res.getId(), properties: res.getProperties().toJavaScript() };
    },
    async read(id, props) {
      const req = new provproto.ReadRequest();
      req.setId(id);
      req.setUrn('urn:pulumi:test::test::berth:x::r');
      req.setProperties(struct(props));
      const res = await call<any>('read', req);
      return { id: res.getId(), properties: res.getProperties()?.toJavaScript() ?? {} };
    },
    async update(id, olds, news) {
      const req = new provproto.UpdateRequest();
      req.setId(id);
      req.setUrn('urn:pulumi:test::test::berth:x::r');
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res = await call<any>('update', req);
      return { properties: res.getProperties().toJavaScript() };
    },
    async delete(id, props) {
      const req = new provproto.DeleteRequest();
      req.setId(id);
      req.setUrn('urn:pulumi:test::test::berth:x::r');
      req.setProperties(struct(props));
      await call('delete', req);
    },
    async close() {
      client.close();
      child.kill('SIGTERM');
    },
  };
}
