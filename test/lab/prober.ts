/**
 * The lab's user: run INSIDE the client namespace (see `Lab.startProber`), it starts a fresh
 * HTTP GET every --interval ms on the slot schedule, never waiting for the previous one, so a
 * hanging server shows up as failed probes rather than as a slower probe rate. Each GET has its
 * own connection (agent: false, Connection: close): a kept-alive socket would stick to the old
 * VIP holder and hide a move.
 *
 * stdout: one JSON line `{"ready":true,"at":…}`, then one line per completed probe
 * `{sentAt, host|null, latencyMs, error?}` (see ProbeRecord). SIGTERM stops sending, waits for
 * the probes in flight (at most --timeout ms) and exits.
 *
 * Clock: ms since --epoch, a `process.hrtime.bigint()` value taken by the harness. hrtime is
 * CLOCK_MONOTONIC, which is system-wide (network namespaces do not change it), so both sides
 * share one clock that wall-clock steps cannot disturb; `performance.timeOrigin` would not be
 * monotonic across processes.
 *
 *   node --import tsx test/lab/prober.ts --url http://10.77.0.100:8080/ --interval 10 \
 *     --timeout 200 --epoch <ns>
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import type { ProbeRecord } from './analysis.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    interval: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '200' },
    epoch: { type: 'string', default: '0' },
  },
});
if (values.url === undefined) throw new Error('prober: --url is required');
const url = new URL(values.url);
const intervalMs = Number(values.interval);
const timeoutMs = Number(values.timeout);
const epoch = BigInt(values.epoch ?? '0');

const now = (): number => Number(process.hrtime.bigint() - epoch) / 1e6;
const round = (ms: number): number => Math.round(ms * 1000) / 1000;
// stdout is a pipe: writes are synchronous on Linux, so nothing is lost at exit
const emit = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

let inFlight = 0;
let stopping = false;

function probe(): void {
  const sentAt = now();
  inFlight++;
  let settled = false;
  const finish = (host: string | null, error?: string): void => {
    if (settled) return;
    settled = true;
    clearTimeout(deadline);
    req.destroy();
    inFlight--;
    const rec: ProbeRecord = { sentAt: round(sentAt), host, latencyMs: round(now() - sentAt), ...(error ? { error } : {}) };
    emit(rec);
    if (stopping && inFlight === 0) process.exit(0);
  };
  // one deadline for the whole exchange (connect + answer), unlike the socket idle timeout
  const deadline = setTimeout(() => finish(null, 'timeout'), timeoutMs);
  const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => (res.statusCode === 200 ? finish(body.trim()) : finish(null, `HTTP ${res.statusCode}`)));
    res.on('error', (e: NodeJS.ErrnoException) => finish(null, e.code ?? e.message));
  });
  req.on('error', (e: NodeJS.ErrnoException) => finish(null, e.code ?? e.message));
}

// Fixed slots start + k·interval: timer drift does not accumulate, and slots missed while the
// event loop was busy are skipped rather than fired in a burst.
const start = now();
let slot = 0;
let timer: NodeJS.Timeout | undefined;
function tick(): void {
  probe();
  const t = now();
  slot = Math.max(slot + 1, Math.ceil((t - start) / intervalMs));
  timer = setTimeout(tick, start + slot * intervalMs - t);
}

process.on('SIGTERM', () => {
  stopping = true;
  clearTimeout(timer);
  if (inFlight === 0) process.exit(0);
});

emit({ ready: true, at: round(start) });
tick();
