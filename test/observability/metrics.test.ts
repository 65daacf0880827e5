/**
 * /metrics as Prometheus reads it: the API built with every real metric passes `promtool check
 * metrics`, carries the process's and Node's own metrics and the config hash, and exports every
 * labelled series from the start, so rate() and the alerts work before the first event.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { buildApi } from '../../sidecar/src/api/server.js';
import type { StatusSnapshot } from '../../sidecar/src/daemon/status.js';
import { setConfigInfo, TRANSITION_SERIES } from '../../sidecar/src/metrics/index.js';
import { daemonRegistry, promtool, REPO, requirePromtool } from './promtool.js';

const SNAPSHOT = { node: 'alpha', role: 'standby', rscstatus: 'none', groups: [], peers: [], ready: true } as unknown as StatusSnapshot;

async function scrape(): Promise<string> {
  const { registry } = daemonRegistry();
  const app = buildApi({ status: () => SNAPSHOT, registry, admin: { standby() {}, takeover() {}, maintenance() {}, reload: () => Promise.reject(new Error('no')) }, adminToken: null, logger: pino({ level: 'silent' }) });
  try {
    const r = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    return r.body;
  } finally {
    await app.close();
  }
}

test('promtool check metrics is clean on the live /metrics of the API with every real metric', async (t) => {
  if (!requirePromtool(t)) return;
  const text = await scrape();
  const r = promtool(['check', 'metrics'], { input: text });
  assert.equal(r.status, 0, r.output);
  assert.equal(r.output.trim(), '', `promtool has remarks:\n${r.output}`);
});

test('the process and Node.js default metrics are exported: memory, CPU, descriptors, event-loop lag, heap', async () => {
  const text = await scrape();
  for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'process_open_fds', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});

test('heartbeat_config_info carries the config hash, and a reload replaces the series instead of adding one', async () => {
  const { registry, metrics } = daemonRegistry();
  assert.match(await registry.metrics(), /^heartbeat_config_info\{hash="0123456789ab"\} 1$/m);
  setConfigInfo(metrics, 'ba9876543210');
  const text = await registry.metrics();
  assert.match(text, /^heartbeat_config_info\{hash="ba9876543210"\} 1$/m);
  assert.doesNotMatch(text, /0123456789ab/);
});

test('every heartbeat_* counter and histogram has its series from the start', async () => {
  const { registry } = daemonRegistry();
  for (const m of await registry.getMetricsAsJSON()) {
    if (!m.name.startsWith('heartbeat_')) continue;
    assert.ok(m.values.length > 0, `${m.name} has no series before its first event`);
  }
  const text = await registry.metrics();
  assert.match(text, /^heartbeat_transitions_total\{group="web",from="held",to="releasing",reason="unhealthy"\} 0$/m);
  assert.match(text, /^heartbeat_heartbeats_late_total\{peer="beta",path="ucast:eth0"\} 0$/m);
  assert.match(text, /^heartbeat_container_actions_total\{container="web",action="unpause",result="error"\} 0$/m);
  assert.match(text, /^heartbeat_peer_rtt_seconds_count\{peer="beta"\} 0$/m);
});

/**
 * The reasons engine.ts gives to claim changes, read from its source: a new reason must be added
 * to TRANSITION_SERIES, or its series would appear only at its first use.
 */
test('TRANSITION_SERIES covers every transition the engine can make', () => {
  const src = fs.readFileSync(path.join(REPO, 'sidecar/src/engine/engine.ts'), 'utf8');
  const known = new Set(TRANSITION_SERIES.map((s) => `${s.to} ${s.reason}`));
  const found: string[] = [];
  for (const m of src.matchAll(/setClaim\(s, [^,]+, '(\w+)', ['`]([a-z-]+)/g)) found.push(`${m[1]} ${m[2]}`);
  for (const m of src.matchAll(/startRelease\(s, [^,]+, ['`]([a-z-]+)/g)) found.push(`releasing ${m[1]}`);
  const body = (name: string): string => src.slice(src.indexOf(`function ${name}(`), src.indexOf('\n  }\n', src.indexOf(`function ${name}(`)));
  for (const m of body('releaseReason').matchAll(/return ['`]([a-z-]+)/g)) found.push(`releasing ${m[1]}`);
  for (const m of body('acquireReason').matchAll(/return ['`]([a-z-]+)/g)) found.push(`acquiring ${m[1]}`);
  assert.ok(found.length >= 15, `only ${found.length} reasons found in engine.ts: has its shape changed?`);
  for (const f of found) assert.ok(known.has(f), `engine.ts makes a transition to ${f.replace(' ', ' for reason ')}, which TRANSITION_SERIES lacks`);
});
