#!/usr/bin/env node
import { createServer } from './app.ts';
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
  const server = await createServer(config);
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
}

main().catch((err: unknown) => {
  process.stderr.write(`berth: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
