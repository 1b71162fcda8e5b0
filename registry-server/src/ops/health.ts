import type { FastifyInstance } from 'fastify';

export interface Readiness {
  /** False once shutdown has begun, so load balancers stop sending new work. */
  accepting: boolean;
  /** Checks each dependency; throws when one is unusable. */
  check(): Promise<void>;
}

export async function healthRoutes(app: FastifyInstance, readiness: Readiness): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (req, reply) => {
    if (!readiness.accepting) return reply.code(503).send({ status: 'shutting down' });
    try {
      await readiness.check();
      return { status: 'ready' };
    } catch (err) {
      req.log.warn({ err }, 'readiness check failed');
      return reply.code(503).send({ status: 'not ready', reason: (err as Error).message });
    }
  });
}
