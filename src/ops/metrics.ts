import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics: process defaults plus request counts and latency by route and status. */
export function registerMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  // The event-loop-lag sampler's timer wakes the process at this period even when idle (the
  // default 10 ms was 100 wake-ups a second; issue 21): 100 ms still sees every lag that matters.
  collectDefaultMetrics({ register: registry, prefix: 'idpbridge_', eventLoopMonitoringPrecision: 100 });
  const requests = new Counter({
    name: 'idpbridge_http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'idpbridge_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // A callback hook, not an async one: no promise and microtask per request for bookkeeping.
  app.addHook('onResponse', (req, reply, done) => {
    try {
      // The route template, not the URL: tenant ids and user ids would explode label cardinality.
      const route = req.routeOptions.url ?? 'unmatched';
      const labels = { method: req.method, route, status: String(reply.statusCode) };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    } catch (err) {
      req.log.error({ err }, 'request metrics failed');
    }
    done();
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
