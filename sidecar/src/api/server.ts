/**
 * The daemon's one HTTP port (docs/architecture.md, Surfaces): what load balancers, Prometheus and operators read,
 * and the three admin actions. Read routes are open because Prometheus scrapes from another
 * host; admin routes need a bearer token and are refused outright when none is configured.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { StatusSnapshot, ReloadStatus } from '../daemon/status.js';
import { ApiError } from './errors.js';
import type { RefusalReason } from '../domain/refusals.js';
import { API_LIMITS, limitConnections, loggedUrl, type ApiLimits } from './limits.js';
import { createLogThrottle } from '../logging/throttle.js';
import { rscstatusSentence } from './rscstatus.js';
import { STATUS_PAGE } from './status-page.js';

export interface AdminActions {
  standby(): Promise<void> | void;
  takeover(): Promise<void> | void;
  maintenance(enabled: boolean): Promise<void> | void;
  /** Reads the configuration again and applies it, or refuses it with its problems. */
  reload(): Promise<ReloadStatus>;
}

export interface ApiDeps {
  readonly status: () => StatusSnapshot;
  readonly registry: Registry;
  readonly admin: AdminActions;
  /** The bearer token admin routes require; null (or empty) refuses every admin request. */
  readonly adminToken: string | null;
  readonly logger: Logger;
  /** Monotonic ms for the refusal log's windows; performance.now by default. */
  readonly now?: () => number;
  /** Hears every refused request or connection, by reason (for a metric). */
  readonly onRefused?: (reason: RefusalReason) => void;
  /** Hears every refusal log line left out by the rate limit. */
  readonly onSuppressed?: () => void;
  /** Tighter limits for tests; API_LIMITS by default. */
  readonly limits?: Partial<ApiLimits>;
}

/** Refused requests and connections are logged once per reason per window, with the count left out. */
const REFUSAL_LOG_WINDOW_MS = 10_000;

const ADMIN_PREFIX = '/v1/';

/**
 * Set here as well as wherever the logger was made, so the token stays out of the log even when
 * the daemon's logger has no redaction or someone later logs request headers.
 */
const REDACT = {
  paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'adminToken'],
  censor: '[redacted]',
};

const BEARER = /^Bearer +(.+)$/i;

const NO_TOKEN_MESSAGE =
  'admin actions are refused because no API token is configured: write a token to a file readable only by the daemon, ' +
  'point api.token_file (or HB_API_TOKEN_FILE) at it, restart, and send it as "Authorization: Bearer <token>"';

const MAINTENANCE_BODY = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean', description: 'true: release everything and hold nothing, even alone; false: back to normal election' },
  },
  required: ['enabled'],
  additionalProperties: false,
} as const;

const STATUS_QUERY = {
  type: 'object',
  properties: { format: { type: 'string', enum: ['json', 'text'] } },
} as const;

const ACTIVE_QUERY = {
  type: 'object',
  properties: { group: { type: 'string', minLength: 1 } },
} as const;

export function buildApi(deps: ApiDeps): FastifyInstance {
  const log: FastifyBaseLogger = deps.logger.child({}, { redact: REDACT });
  const limits: ApiLimits = { ...API_LIMITS, ...deps.limits };
  const app = Fastify({
    loggerInstance: log,
    // Load balancers probe every second and Prometheus scrapes every few: one info line per
    // request would drown the transitions. The onResponse hook below logs what matters.
    logController: new LogController({ disableRequestLogging: true }),
    http: { connectionsCheckingInterval: limits.timeoutCheckMs },
    bodyLimit: limits.bodyLimitBytes,
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    // Fastify's defaults coerce `{"enabled": null}` to false and silently drop unknown keys;
    // an admin action must get exactly what the operator meant or be refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  });
  const authorize = bearerCheck(deps.adminToken);
  const throttle = createLogThrottle({ windowMs: REFUSAL_LOG_WINDOW_MS, now: deps.now ?? (() => performance.now()), onSuppressed: () => deps.onSuppressed?.() });
  /** Counts a refusal and logs it when its reason's window allows. */
  const refused = (reason: RefusalReason, entry: Record<string, unknown>, message: string): void => {
    deps.onRefused?.(reason);
    const { log: logNow, suppressed } = throttle.admit(reason);
    if (logNow) log.warn({ ...entry, event: 'refused', reason, suppressed }, suppressed > 0 ? `${message} (and ${suppressed} more refused for ${reason} since the last line)` : message);
  };
  limitConnections(app.server, (reason, remote) => refused(reason, { remote }, `connection from ${remote} closed: ${reason}`), limits);

  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err);
    if (e.statusCode >= 500) req.log.error({ err, code: e.code }, e.message);
    if (e.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="heartbeat-sidecar"');
    return reply.code(e.statusCode).send({ statusCode: e.statusCode, code: e.code, error: STATUS_CODES[e.statusCode], message: e.message });
  });

  app.setNotFoundHandler((req) => {
    throw new ApiError('HB_API_NOT_FOUND', `no route ${req.method} ${loggedUrl(req.url, limits)}`);
  });

  // Accepted admin actions are logged in full; refusals are what an outsider can cause, so they
  // are counted and logged once per reason per window.
  app.addHook('onResponse', async (req, reply) => {
    const url = loggedUrl(req.url, limits);
    const entry = { event: 'http', method: req.method, url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime), remote: req.ip };
    if (reply.statusCode >= 400 && reply.statusCode < 500) refused(refusalReason(reply.statusCode), entry, `${req.method} ${url} refused (${reply.statusCode})`);
    else if (!req.url.startsWith(ADMIN_PREFIX)) req.log.debug(entry, 'request');
    else if (reply.statusCode < 400) req.log.info(entry, `admin ${url} accepted`);
    else req.log.warn(entry, `admin ${url} failed (${reply.statusCode})`);
  });

  app.get<{ Querystring: { format?: 'json' | 'text' } }>('/status', { schema: { querystring: STATUS_QUERY } }, async (req, reply) => {
    const snapshot = deps.status();
    if (req.query.format === 'text') return reply.type('text/plain; charset=utf-8').send(`${rscstatusSentence(snapshot.rscstatus)}\n`);
    return snapshot;
  });

  // For load-balancer checks: only the node holding everything (or the named group) answers 200.
  app.get<{ Querystring: { group?: string } }>('/status/active', { schema: { querystring: ACTIVE_QUERY } }, async (req, reply) => {
    const snapshot = deps.status();
    const { group } = req.query;
    if (group === undefined) {
      const active = snapshot.rscstatus === 'all';
      return reply.code(active ? 200 : 503).send({ active, rscstatus: snapshot.rscstatus });
    }
    const g = snapshot.groups.find((x) => x.id === group);
    if (g === undefined) throw new ApiError('HB_API_UNKNOWN_GROUP', `no resource group "${group}"; groups: ${snapshot.groups.map((x) => x.id).join(', ')}`);
    const active = g.localClaim === 'held';
    return reply.code(active ? 200 : 503).send({ active, group, claim: g.localClaim });
  });

  // The status page for people: read-only, it polls /status (api/status-page.ts).
  app.get('/', async (_req, reply) => reply.headers(STATUS_PAGE.headers).send(STATUS_PAGE.html));

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (_req, reply) => {
    const snapshot = deps.status();
    return reply.code(snapshot.ready ? 200 : 503).send({ ready: snapshot.ready, role: snapshot.role });
  });

  app.get('/metrics', async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));

  // 202: the engine has the command; the handover itself follows the planned-move sequence.
  app.post('/v1/standby', { onRequest: authorize }, async (_req, reply) => {
    await runAdmin('standby', () => deps.admin.standby());
    return reply.code(202).send({ accepted: true, action: 'standby' });
  });

  app.post('/v1/takeover', { onRequest: authorize }, async (_req, reply) => {
    await runAdmin('takeover', () => deps.admin.takeover());
    return reply.code(202).send({ accepted: true, action: 'takeover' });
  });

  app.post<{ Body: { enabled: boolean } }>('/v1/maintenance', { onRequest: authorize, schema: { body: MAINTENANCE_BODY } }, async (req, reply) => {
    const { enabled } = req.body;
    await runAdmin('maintenance', () => deps.admin.maintenance(enabled));
    return reply.code(202).send({ accepted: true, action: 'maintenance', enabled });
  });

  // 200 with what was applied; 422 with the problems when the new config is refused (the daemon runs on).
  app.post('/v1/reload', { onRequest: authorize }, async (_req, reply) => {
    const outcome = await runAdmin('reload', () => deps.admin.reload());
    return reply.code(outcome.result === 'applied' ? 200 : 422).send(outcome);
  });

  return app;
}

/**
 * Runs in onRequest, before the body is read or validated, so an unauthenticated caller learns
 * nothing about the schema. Both sides are hashed first: timingSafeEqual needs equal lengths,
 * and comparing digests hides the token's length too.
 */
function bearerCheck(token: string | null): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = token === null || token === '' ? null : sha256(token);
  return async (req) => {
    if (expected === null) throw new ApiError('HB_API_ADMIN_DISABLED', NO_TOKEN_MESSAGE);
    const presented = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (presented === undefined) throw new ApiError('HB_API_TOKEN_MISSING', 'this admin action needs an "Authorization: Bearer <token>" header');
    if (!timingSafeEqual(sha256(presented), expected)) throw new ApiError('HB_API_TOKEN_WRONG', 'the bearer token does not match the configured API token');
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

async function runAdmin<T>(action: string, command: () => Promise<T> | T): Promise<T> {
  try {
    return await command();
  } catch (err) {
    throw new ApiError('HB_API_ADMIN_FAILED', `${action} was not accepted: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function refusalReason(statusCode: number): RefusalReason {
  switch (statusCode) {
    case 404:
      return 'not-found';
    case 401:
      return 'unauthorized';
    case 403:
      return 'admin-disabled';
    case 408:
      return 'timeout';
    case 413:
      return 'too-large';
    case 400:
    case 415:
      return 'bad-request';
    default:
      return 'other';
  }
}

/** Fastify's own errors (validation, body parsing) keep their status but get our codes. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const { statusCode, validation, message } = err as { statusCode?: number; validation?: unknown; message?: string };
  const text = message ?? String(err);
  if (validation !== undefined) return new ApiError('HB_API_BAD_REQUEST', text, { cause: err });
  if (statusCode === 413) return new ApiError('HB_API_BODY_TOO_LARGE', text, { cause: err });
  if (statusCode === 415) return new ApiError('HB_API_UNSUPPORTED_MEDIA_TYPE', text, { cause: err });
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) return new ApiError('HB_API_BAD_REQUEST', text, { cause: err });
  return new ApiError('HB_API_INTERNAL', `internal error: ${text}`, { cause: err });
}
