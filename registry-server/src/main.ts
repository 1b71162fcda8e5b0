#!/usr/bin/env -S node --max-semi-space-size=1
// A 1 MiB young generation collects the short-lived buffers of large uploads early, which
// keeps peak memory low; pass the flag yourself when starting this file with `node`.
import { ConfigError, loadConfig, summarize, usage } from './config.ts';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  let loaded;
  try {
    loaded = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { config } = loaded;
  // node:sqlite arrived in Node 22.13; say so plainly rather than failing on an import.
  if (typeof process.getBuiltinModule !== 'function' || !process.getBuiltinModule('node:sqlite')) {
    process.stderr.write(`berth: Node.js ${process.version} lacks node:sqlite; Berth needs Node.js 22.13 or later (\`npm start\` and \`make run\` use the pinned Node 24)\n`);
    process.exit(2);
  }
  const { createServer } = await import('./app.ts');
  const { checkAdminCredentials } = await import('./auth/bootstrap.ts');
  let admin;
  try {
    admin = checkAdminCredentials({ accessKeyId: process.env.BERTH_ADMIN_ACCESS_KEY_ID, secretAccessKey: process.env.BERTH_ADMIN_SECRET_ACCESS_KEY });
  } catch (err) {
    process.stderr.write(`berth: configuration error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const { RootKeyError } = await import('./kms/root-key.ts');
  let server;
  try {
    server = await createServer(config, { admin });
  } catch (err) {
    if (!(err instanceof RootKeyError)) throw err;
    process.stderr.write(`berth: configuration error: ${err.message}\n`);
    process.exit(2);
  }
  const log = server.app.log;
  log.info({ config: summarize(loaded), configFile: loaded.file ?? null }, 'configuration');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const address = await server.app.listen({ host: config.listen.host, port: config.listen.port });
  log.info({ address, dataDir: config.dataDir }, 'berth is serving the OCI distribution API');
  const boot = server.bootstrap;
  if (boot.status === 'created') {
    log.info({ principal: 'admin', accessKeyId: boot.accessKeyId }, 'created the admin principal (first start)');
    // Shown once, on the terminal and never through the logger: there is no other copy.
    if (boot.generatedSecret !== undefined) {
      const host = config.publicHost ?? `${config.listen.host}:${config.listen.port}`;
      process.stderr.write(
        [
          '',
          'Berth created the administrator "admin". Its access key is shown this once; store it now:',
          `  access key id:     ${boot.accessKeyId}`,
          `  secret access key: ${boot.generatedSecret}`,
          `Sign in with: docker login ${host} --username ${boot.accessKeyId} --password-stdin`,
          '(Set BERTH_ADMIN_ACCESS_KEY_ID and BERTH_ADMIN_SECRET_ACCESS_KEY before the first start to choose the key instead.)',
          '',
          '',
        ].join('\n'),
      );
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`berth: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
