// The Terraform plugin transport: serve a ProviderHandlers implementation to Terraform / OpenTofu.
export { servePlugin, HEALTH_SERVICE_NAME, MAX_MESSAGE_BYTES, type PluginServer, type ServeOptions } from './serve.ts';
export {
  MAGIC_COOKIE_KEY,
  MAGIC_COOKIE_VALUE,
  CORE_PROTOCOL_VERSION,
  APP_PROTOCOL_VERSION,
  formatHandshakeLine,
  parseHandshakeLine,
  type HandshakeFields,
} from './handshake.ts';
export { createLogger, type Logger, type LogLevel } from './log.ts';
export {
  attributePath,
  errorDiagnostic,
  hasErrors,
  step,
  timestampFromDate,
  unexpectedErrorDiagnostic,
  warningDiagnostic,
} from './diagnostics.ts';
export { PROVIDER_RPCS } from './provider-service.ts';
export type * from './types.ts';
