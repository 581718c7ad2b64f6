// The bot's health endpoint on HTTP_LISTEN (meant for localhost: a monitoring agent, a container health check):
//   GET /healthz   200 when the bot is healthy, 503 when not, with a JSON body that says what was looked at
//   GET /metrics   Prometheus text format (metrics.ts)
// Nothing else is served; there is nothing to change and nothing secret here.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from '../config.ts';
import type { Logger } from '../log.ts';
import type { BotMetrics } from './metrics.ts';

export interface HealthReport {
  healthy: boolean;
  [detail: string]: unknown;
}

export interface HealthServer {
  /** The address it listens on (the port is chosen by the system when HTTP_LISTEN gives 0). */
  address: AddressInfo;
  close(): Promise<void>;
}

export async function startHealthServer(options: {
  listen: HostPort;
  metrics: BotMetrics;
  health: () => Promise<HealthReport>;
  logger: Logger;
}): Promise<HealthServer> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const answer = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      answer(405, 'text/plain; charset=utf-8', 'only GET\n');
      return;
    }
    const work =
      url.pathname === '/healthz'
        ? options.health().then((report) => answer(report.healthy ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`))
        : url.pathname === '/metrics'
          ? options.metrics.text().then((text) => answer(200, options.metrics.contentType, text))
          : Promise.resolve(answer(404, 'text/plain; charset=utf-8', 'mailops serves /healthz and /metrics\n'));
    work.catch((error: unknown) => {
      options.logger.error({ err: error, path: url.pathname }, 'health endpoint failed');
      if (!response.headersSent) answer(500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  options.logger.info({ address: server.address() }, 'health endpoint listening');
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
