// The go-plugin handshake as Terraform and OpenTofu use it (pure functions, no I/O).
//
// Facts, from hashicorp/go-plugin server.go and client.go unless noted:
// - the host starts the plugin with TF_PLUGIN_MAGIC_COOKIE=d602bf8f…72b2 (the value every
//   Terraform provider serves with: terraform-plugin-go tfprotov6/tf6server/server.go); a
//   plugin started without it prints a note to stderr and exits 1;
// - PLUGIN_PROTOCOL_VERSIONS lists the app protocol versions the host speaks, comma-separated
//   in no particular order (Terraform: "5,6"); the plugin picks the highest it also speaks;
// - PLUGIN_MIN_PORT / PLUGIN_MAX_PORT bound the TCP port, PLUGIN_UNIX_SOCKET_DIR and
//   PLUGIN_UNIX_SOCKET_GROUP place and share the unix socket, PLUGIN_CLIENT_CERT carries the
//   host's AutoMTLS certificate (PEM), PLUGIN_MULTIPLEX_GRPC asks for a seventh field;
// - the plugin writes exactly one line to stdout:
//     CORE-PROTOCOL-VERSION|APP-PROTOCOL-VERSION|NETWORK-TYPE|NETWORK-ADDR|PROTOCOL|SERVER-CERT
//   e.g. "1|6|unix|/tmp/plugin123|grpc|MIIB…" — go-plugin always prints the sixth field, empty
//   without AutoMTLS; the host reads the certificate only when that field is over 50
//   characters, as base64.RawStdEncoding of the DER.

export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
/** go-plugin's own handshake version (the first field). */
export const CORE_PROTOCOL_VERSION = 1;
/** The tfplugin protocol this provider speaks. */
export const APP_PROTOCOL_VERSION = 6;

export const ENV = {
  protocolVersions: 'PLUGIN_PROTOCOL_VERSIONS',
  minPort: 'PLUGIN_MIN_PORT',
  maxPort: 'PLUGIN_MAX_PORT',
  unixSocketDir: 'PLUGIN_UNIX_SOCKET_DIR',
  unixSocketGroup: 'PLUGIN_UNIX_SOCKET_GROUP',
  clientCert: 'PLUGIN_CLIENT_CERT',
  multiplexGrpc: 'PLUGIN_MULTIPLEX_GRPC',
} as const;

export function hasMagicCookie(env: NodeJS.ProcessEnv): boolean {
  return env[MAGIC_COOKIE_KEY] === MAGIC_COOKIE_VALUE;
}

export function notAPluginMessage(binary = 'terraform-provider-berth'): string {
  return [
    'This binary is a plugin. These are not meant to be executed directly.',
    `${binary} is the Berth provider for Terraform and OpenTofu: declare it in the`,
    'required_providers block of your configuration and run `terraform init` (or `tofu init`);',
    'Terraform then starts it by itself. See the Berth README, section "Terraform provider".',
    '',
  ].join('\n');
}

export type Negotiation =
  | { ok: true; version: number; offered: number[] | null }
  | { ok: false; offered: number[]; message: string };

/**
 * Picks the app protocol version. Without PLUGIN_PROTOCOL_VERSIONS (go-plugin hosts older than
 * versioned plugins) go-plugin serves its own version and lets the host judge; so does this.
 */
export function negotiateProtocol(env: NodeJS.ProcessEnv, supported: readonly number[] = [APP_PROTOCOL_VERSION]): Negotiation {
  const raw = env[ENV.protocolVersions];
  if (raw === undefined || raw.trim() === '') return { ok: true, version: Math.max(...supported), offered: null };
  const offered = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
  const common = offered.filter((v) => supported.includes(v));
  if (common.length > 0) return { ok: true, version: Math.max(...common), offered };
  return {
    ok: false,
    offered,
    message:
      `this provider speaks Terraform plugin protocol ${supported.join(', ')}, but the host offered ` +
      `${offered.length ? offered.join(', ') : `nothing usable ("${raw}")`}. ` +
      'Protocol 6 needs Terraform 1.0 or later, or OpenTofu 1.6 or later.',
  };
}

export interface HandshakeFields {
  coreVersion: number;
  appVersion: number;
  network: 'unix' | 'tcp';
  address: string;
  protocol: 'grpc' | 'netrpc';
  /** base64 (no padding) DER of the server certificate; empty without AutoMTLS. */
  serverCert: string;
  /** Only when the host set PLUGIN_MULTIPLEX_GRPC. */
  multiplex?: boolean;
}

export function formatHandshakeLine(f: HandshakeFields): string {
  let line = `${f.coreVersion}|${f.appVersion}|${f.network}|${f.address}|${f.protocol}|${f.serverCert}`;
  if (f.multiplex !== undefined) line += `|${f.multiplex}`;
  return `${line}\n`;
}

/** Parses a handshake line the way go-plugin's client does (for tests and tools). */
export function parseHandshakeLine(line: string): HandshakeFields {
  const parts = line.trim().split('|');
  if (parts.length < 4) throw new Error(`Unrecognized remote plugin message: ${line.trim()}`);
  const [core, app, network, address, protocol = 'netrpc', serverCert = '', multiplex] = parts;
  if (!/^\d+$/.test(core!) || !/^\d+$/.test(app!)) throw new Error(`bad protocol versions in handshake: ${line.trim()}`);
  if (network !== 'unix' && network !== 'tcp') throw new Error(`unknown address type: ${network}`);
  if (protocol !== 'grpc' && protocol !== 'netrpc') throw new Error(`unsupported plugin protocol "${protocol}"`);
  return {
    coreVersion: Number(core),
    appVersion: Number(app),
    network,
    address: address!,
    protocol,
    serverCert,
    ...(multiplex === undefined ? {} : { multiplex: multiplex === 'true' }),
  };
}

export interface PortRange {
  min: number;
  max: number;
}

/** PLUGIN_MIN_PORT..PLUGIN_MAX_PORT, each defaulting to 0 (any free port), as go-plugin reads them. */
export function portRange(env: NodeJS.ProcessEnv): PortRange {
  const read = (name: string): number => {
    const v = env[name];
    if (v === undefined || v === '') return 0;
    if (!/^\d+$/.test(v.trim()) || Number(v) > 65535) throw new Error(`couldn't get value from ${name}: "${v}"`);
    return Number(v);
  };
  const min = read(ENV.minPort);
  const max = read(ENV.maxPort);
  if (min > max) throw new Error(`${ENV.minPort} value of ${min} is greater than ${ENV.maxPort} value of ${max}`);
  return { min, max };
}
