import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, register as globalRegistry } from 'prom-client';
import { REJECT_REASONS } from '../wire/types.js';
import { createMetrics } from './index.js';

const BUILD = { version: '1.2.3', node: 'cookbook' };

test('every metric is registered on the given registry, never the global one', async () => {
  const registry = new Registry();
  const metrics = createMetrics(registry, BUILD);
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  assert.equal(names.length, Object.keys(metrics).length);
  assert.deepEqual((await globalRegistry.getMetricsAsJSON()).filter((m) => m.name.startsWith('heartbeat_')), []);
});

test('two instances live side by side, one per registry', async () => {
  const a = new Registry();
  const b = new Registry();
  createMetrics(a, BUILD).timerStalls.inc();
  createMetrics(b, { version: '1.2.3', node: 'cookbook2' });
  assert.match(await a.metrics(), /^heartbeat_timer_stalls_total 1$/m);
  assert.match(await b.metrics(), /^heartbeat_timer_stalls_total 0$/m);
});

test('names follow the conventions: heartbeat_ prefix, base units, _total only on counters, a real help text', async () => {
  const registry = new Registry();
  createMetrics(registry, BUILD);
  for (const m of await registry.getMetricsAsJSON()) {
    assert.match(m.name, /^heartbeat_[a-z_]+$/, m.name);
    const type = String(m.type);
    assert.equal(m.name.endsWith('_total'), type === 'counter', `${m.name} is a ${type}`);
    assert.doesNotMatch(m.name, /_(milli|micro)?seconds_total$|_ms$|_millis/, m.name);
    if (type === 'histogram') assert.match(m.name, /_seconds$/, m.name);
    assert.ok(m.help.length > 20 && m.help.endsWith('.'), `${m.name}: help "${m.help}"`);
  }
});

test('build info is 1 with version and node', async () => {
  const registry = new Registry();
  createMetrics(registry, BUILD);
  assert.match(await registry.metrics(), /^heartbeat_build_info\{version="1\.2\.3",node="cookbook"\} 1$/m);
});

test('every datagram rejection reason is exported as 0 before the first rejection', async () => {
  const registry = new Registry();
  const metrics = createMetrics(registry, BUILD);
  metrics.datagramsRejected.inc({ reason: 'badAuth' });
  const text = await registry.metrics();
  for (const reason of REJECT_REASONS) {
    assert.match(text, new RegExp(`^heartbeat_datagrams_rejected_total\\{reason="${reason}"\\} ${reason === 'badAuth' ? 1 : 0}$`, 'm'));
  }
});

test('a node starts healthy', async () => {
  const registry = new Registry();
  createMetrics(registry, BUILD);
  assert.match(await registry.metrics(), /^heartbeat_healthy 1$/m);
});

test('RTT buckets resolve LAN round trips from 100 µs to 1 s', async () => {
  const registry = new Registry();
  const metrics = createMetrics(registry, BUILD);
  metrics.peerRtt.observe({ peer: 'cookbook2' }, 0.0003);
  const buckets = [...(await registry.metrics()).matchAll(/^heartbeat_peer_rtt_seconds_bucket\{le="([^"]+)",peer="cookbook2"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
  assert.equal(buckets[0]![0], '0.0001');
  assert.deepEqual(buckets.find(([le]) => le === '0.00025'), ['0.00025', 0]);
  assert.deepEqual(buckets.find(([le]) => le === '0.0005'), ['0.0005', 1]);
  assert.deepEqual(buckets.at(-2), ['1', 1]);
});

test('label sets the runtime uses are accepted', async () => {
  const registry = new Registry();
  const m = createMetrics(registry, BUILD);
  m.groupClaim.set({ group: 'web', claim: 'held' }, 1);
  m.transitions.inc({ group: 'web', from: 'acquiring', to: 'held', reason: 'acquired' });
  m.heartbeatsReceived.inc({ peer: 'cookbook2', path: 'ucast:eth0' });
  m.vipPresent.set({ group: 'web', address: '10.77.0.100' }, 1);
  m.containerActions.inc({ container: 'web', action: 'unpause', result: 'ok' });
  m.containerActionDuration.observe({ container: 'web', action: 'unpause' }, 0.02);
  m.dockerUp.set({ container: 'web' }, 0);
  m.healthChecks.inc({ check: 'http', result: 'fail' });
  const text = await registry.metrics();
  assert.match(text, /^heartbeat_transitions_total\{group="web",from="acquiring",to="held",reason="acquired"\} 1$/m);
  assert.match(text, /^heartbeat_container_action_duration_seconds_count\{container="web",action="unpause"\} 1$/m);
  assert.match(text, /^heartbeat_docker_up\{container="web"\} 0$/m);
});
