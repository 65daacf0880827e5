/**
 * The engine with election: etcd: it holds exactly while the store grants a group, acquires at
 * once (etcd already settled who holds, so no claim window), and lets go at once when the grant
 * is withdrawn, on maintenance and on shutdown. Heartbeats from peers decide nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from './engine.js';
import type { Action, EngineEvent, EngineSettings, EngineState } from './types.js';

const settings: EngineSettings = {
  node: 'alpha',
  nodes: [
    { name: 'alpha', priority: 0 },
    { name: 'beta', priority: 100 },
  ],
  groups: [{ id: 'web', preferred: 'beta', vips: [{ address: '10.77.0.100', prefixLength: 24, iface: 'eth0', label: null, family: 4 }], container: null }],
  timing: { keepaliveMs: 100, warntimeMs: 400, deadtimeMs: 800, initdeadMs: 3000 },
  autoFailback: true,
  election: { backend: 'etcd' },
};

function run(events: readonly [number, EngineEvent][]): { state: EngineState; actions: Action[] } {
  const engine = createEngine(settings);
  let state = engine.initial(0, 1);
  const actions: Action[] = [];
  for (const [at, event] of events) {
    const r = engine.step(state, event, at);
    state = r.state;
    actions.push(...r.actions);
  }
  return { state, actions };
}

const granted = (granted: boolean, reason: string): EngineEvent => ({ type: 'authority', group: 'web', authority: { granted, reason } });
const moves = (actions: Action[]) => actions.filter((a) => a.type === 'acquire' || a.type === 'release').map((a) => `${a.type}:${(a as { reason: string }).reason}`);

test('nothing is acquired without the store, however long: no initdead election of its own', () => {
  const { state, actions } = run([[0, { type: 'tick' }], [10_000, { type: 'tick' }]]);
  assert.equal(state.phase, 'running');
  assert.deepEqual(moves(actions), []);
});

test('granted: acquired at once, no claim window; withdrawn: released at once with the store\'s reason', () => {
  const { state, actions } = run([[0, { type: 'tick' }], [5, granted(true, 'elected')], [6, { type: 'acquired', group: 'web' }], [900, granted(false, 'fence')]]);
  assert.deepEqual(moves(actions), ['acquire:elected', 'release:fence']);
  assert.equal(state.groups['web']!.claim, 'releasing');
});

test('maintenance and shutdown let go before the store hears of them', () => {
  const m = run([[0, granted(true, 'elected')], [1, { type: 'acquired', group: 'web' }], [2, { type: 'maintenance', enabled: true }]]);
  assert.deepEqual(moves(m.actions), ['acquire:elected', 'release:maintenance']);
  const s = run([[0, granted(true, 'elected')], [1, { type: 'acquired', group: 'web' }], [2, { type: 'shutdown' }]]);
  assert.deepEqual(moves(s.actions), ['acquire:elected', 'release:shutdown']);
});

test('a freeze longer than deadtime is left to the fence: no stall release of its own', () => {
  const { actions } = run([[0, granted(true, 'elected')], [1, { type: 'acquired', group: 'web' }], [5_000, { type: 'tick' }]]);
  assert.deepEqual(moves(actions), ['acquire:elected']);
  assert.ok(!actions.some((a) => a.type === 'stall'));
});
