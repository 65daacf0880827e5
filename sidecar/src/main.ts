#!/usr/bin/env node
/**
 * heartbeat-sidecar: the composition root, and the only place that reads process.env and argv.
 *
 *   config    → load the Heartbeat files or YAML, refuse to start on any problem
 *   transport → UDP sockets on every path
 *   resources → the VIP (ip), its announcement (arping), the notify hook
 *   runtime   → the engine's loop: heartbeats, election, acquire/release, reconcile
 *   api       → /status, /metrics, admin actions
 *   signals   → SIGTERM/SIGINT/fatal errors hand over through the planned-move path, then exit 0
 */
import { readFile, writeFile } from 'node:fs/promises';
import { networkInterfaces, hostname } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildApi } from './api/server.js';
import { runCli } from './cli/index.js';
import { configHash, loadConfig } from './config/load.js';
import { formatProblems } from './config/format.js';
import type { Config } from './config/types.js';
import { nextGeneration } from './daemon/generation.js';
import { createRuntime } from './daemon/runtime.js';
import { createMetrics } from './metrics/index.js';
import { createArpingAnnouncer } from './resources/announce.js';
import { spawnCommand } from './resources/command.js';
import { createIpVipDriver } from './resources/ipaddr.js';
import { createNotifier } from './resources/notify.js';
import { createUdpTransport } from './transport/udp.js';
import { VERSION } from './version.js';

/** Where the boot generation is kept across restarts; a volume in compose. */
const STATE_DIR = process.env.HB_STATE_DIR ?? '/var/lib/heartbeat-sidecar';

/** Long enough for a release and a leave message; compose's stop_grace_period must exceed it. */
const SHUTDOWN_GRACE_MS = 5_000;

interface Source {
  configPath: string | null;
  haDir: string;
}

async function load(source: Source) {
  const interfaces = Object.keys(networkInterfaces());
  return loadConfig({ configPath: source.configPath, haDir: source.haDir, env: process.env, hostname: hostname(), interfaces });
}

async function checkConfig(source: Source): Promise<{ ok: boolean; text: string }> {
  const result = await load(source);
  const warnings = result.warnings.length > 0 ? formatProblems(result.warnings) + '\n' : '';
  if (!result.ok) return { ok: false, text: warnings + formatProblems(result.problems) };
  return { ok: true, text: `${warnings}configuration OK (${result.config.source.files.join(', ')})` };
}

function ipv4Of(iface: string): { ipv4: string | null; broadcast: string | null } {
  const info = networkInterfaces()[iface]?.find((a) => a.family === 'IPv4');
  if (info === undefined) return { ipv4: null, broadcast: null };
  const addr = info.address.split('.').map(Number);
  const mask = info.netmask.split('.').map(Number);
  const broadcast = addr.map((b, i) => (b | (~mask[i]! & 255)) >>> 0).join('.');
  return { ipv4: info.address, broadcast };
}

async function runDaemon(source: Source): Promise<void> {
  const result = await load(source);
  if (!result.ok) {
    process.stderr.write(formatProblems([...result.warnings, ...result.problems]) + '\n');
    process.exitCode = 1;
    return;
  }
  const config: Config = result.config;
  const logger = pino(
    {
      level: config.log.level,
      base: { node: config.node },
      redact: { paths: ['secret', '*.secret', 'token', 'req.headers.authorization'], censor: '[redacted]' },
    },
    config.log.file === null ? pino.destination(1) : pino.multistream([{ stream: pino.destination(1) }, { stream: pino.destination(config.log.file) }]),
  );
  for (const w of result.warnings) logger.warn({ event: 'config-warning', ...w }, w.message);
  const boot = await nextGeneration(path.join(STATE_DIR, `generation-${config.node}`), Date.now());
  if (boot.warning !== null) logger.warn({ event: 'generation' }, boot.warning);

  const registry = new Registry();
  const metrics = createMetrics(registry, { version: VERSION, node: config.node });
  const run = spawnCommand();
  const runtime = createRuntime({
    config,
    configHash: configHash(config),
    generation: boot.generation,
    transport: createUdpTransport({ paths: config.paths, port: config.port, localAddresses: ipv4Of, logger: logger.child({ component: 'transport' }) }),
    vips: createIpVipDriver(run, (file, value) => writeFile(file, value)),
    announcer: createArpingAnnouncer(run, (ms) => new Promise((r) => setTimeout(r, ms))),
    notifier: createNotifier(config.notifyCommand, process.env, logger),
    metrics,
    logger,
    clock: { now: () => performance.now(), wallNow: () => Date.now() },
    timers: {
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
  });
  const adminToken = config.api.tokenFile === null ? null : (await readFile(config.api.tokenFile, 'utf8')).trim();
  const api = buildApi({
    status: () => runtime.snapshot(),
    registry,
    admin: {
      standby: () => runtime.command({ type: 'standby' }),
      takeover: () => runtime.command({ type: 'takeover' }),
      maintenance: (enabled) => runtime.command({ type: 'maintenance', enabled }),
    },
    adminToken,
    logger: logger.child({ component: 'api' }),
  });

  let stopping: Promise<void> | null = null;
  const shutdown = (why: string, err?: unknown): Promise<void> => {
    stopping ??= (async () => {
      if (err !== undefined) logger.fatal({ err, event: 'fatal' }, `fatal error: ${why}; handing over before exit`);
      else logger.info({ event: 'signal', signal: why }, `${why}: handing over`);
      await runtime.stop(SHUTDOWN_GRACE_MS);
      await api.close();
      logger.flush();
      process.exit(0);
    })();
    return stopping;
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('uncaughtException', (err) => void shutdown('uncaughtException', err));
  process.on('unhandledRejection', (err) => void shutdown('unhandledRejection', err));

  await runtime.start();
  await api.listen({ host: config.api.host, port: config.api.port });
}

const code = await runCli(process.argv, process.env, { runDaemon, checkConfig });
if (code !== 0) process.exitCode = code;
