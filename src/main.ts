import { loadConfig } from './config.js';
import { buildApp } from './app.js';
import { startShutdownWatchdog } from './lib/shutdown-watchdog.js';
import { stdoutLogDestination } from './logger.js';

/** `npm start` / `idpbridge serve`: serve until SIGTERM/SIGINT, then drain and close. */
export async function serve(): Promise<void> {
  const config = loadConfig();
  const log = stdoutLogDestination();
  const { app, generatedAdminToken } = await buildApp({ config, loggerStream: log.stream });
  if (generatedAdminToken) {
    // Printed once, to the terminal only (never through the logger); only its hash is stored.
    process.stderr.write(
      `\nGenerated operator token (shown once; set IDPBRIDGE_ADMIN_TOKEN to choose your own):\n  ${generatedAdminToken}\n\n`,
    );
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // Log lines stdout cannot take within 5 s are dropped: an unread stdout must not keep us alive.
    log.giveUpAfter(5_000);
    // Two deadlines: after 10 s the main thread exits with 1; if it is stuck and cannot run that
    // timer, a watchdog thread kills the process at 13 s. Either way it is gone within 15 s.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    startShutdownWatchdog(13_000);
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  serve().catch((err: Error) => {
    process.stderr.write(`idpbridge: ${err.message}\n`);
    process.exit(1);
  });
}
