// Loads the plugin protocol definitions (.proto source files shipped with the package) with
// @grpc/proto-loader. No generated code: the service definitions are built at start-up.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

export const PROTO_FILES = ['tfplugin6.proto', 'grpc_controller.proto', 'grpc_stdio.proto', 'health.proto'] as const;

/**
 * How messages look in JavaScript: field names as in the .proto (snake_case), enums as their
 * names, 64-bit integers as numbers (schema versions, list limits and byte offsets stay far
 * below 2^53), bytes as Buffers, unset scalars filled with their defaults and unset message
 * fields as null, and the name of the set member of each oneof in a property of the oneof's
 * name (e.g. `selector: 'attribute_name'`).
 */
export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * The folder holding the .proto files. Resolved from this module's own URL so that it works
 * from the TypeScript sources (src/terraform/proto/load.ts) and from a bundle, provided the
 * bundle ships the folder as `proto/` beside it or one level up (dist/proto, dist/terraform/proto),
 * or still sits next to the sources (dist → ../src/terraform/proto).
 */
export function protoDir(): string {
  const candidates = ['./', '../proto/', './proto/', '../src/terraform/proto/', '../../src/terraform/proto/'];
  for (const rel of candidates) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}tfplugin6.proto`)) return dir;
  }
  throw new Error(`cannot find tfplugin6.proto near ${fileURLToPath(import.meta.url)}; ship src/terraform/proto/*.proto with the build`);
}

export interface PluginServices {
  provider: ServiceDefinition;
  health: ServiceDefinition;
  controller: ServiceDefinition;
  stdio: ServiceDefinition;
}

let cached: PackageDefinition | undefined;

export function loadPackageDefinition(): PackageDefinition {
  if (!cached) {
    const dir = protoDir();
    cached = loadSync(
      PROTO_FILES.map((f) => `${dir}${f}`),
      { ...LOADER_OPTIONS, includeDirs: [dir] },
    );
  }
  return cached;
}

function service(def: PackageDefinition, name: string): ServiceDefinition {
  const svc = def[name];
  if (!svc || 'format' in svc || !Object.values(svc).every((m) => typeof m === 'object' && 'path' in m)) {
    throw new Error(`protocol definitions lack service ${name}`);
  }
  return svc as ServiceDefinition;
}

export function loadPluginServices(): PluginServices {
  const def = loadPackageDefinition();
  return {
    provider: service(def, 'tfplugin6.Provider'),
    health: service(def, 'grpc.health.v1.Health'),
    controller: service(def, 'plugin.GRPCController'),
    stdio: service(def, 'plugin.GRPCStdio'),
  };
}
