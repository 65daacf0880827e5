/**
 * The status snapshot has one definition (status.ts): what the daemon describes, sent as JSON,
 * is what the CLI's check accepts, field for field; and the check still refuses what is not a
 * snapshot.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { scratch } from '../../../test/support/scratch.js';
import { formatProblems } from '../config/format.js';
import { loadConfig } from '../config/load.js';
import { createEngine } from '../engine/engine.js';
import { describeStatus } from './describe.js';
import { statusSnapshotSchema, type StatusSnapshot } from './status.js';

const files = await scratch();
after(() => files.remove());

const YAML = `
nodes: [alpha, {name: beta, priority: 10}]
paths:
  - {ucast: {iface: eth0, peers: [10.77.0.11, 10.77.0.12]}}
auth: {send_key: 1, keys: [{id: 1, secret: not-for-production}]}
groups:
  - {name: web, preferred: alpha, vips: [10.77.0.100/24/eth0:1], container: {name: nginx}}
`;

async function snapshot(): Promise<StatusSnapshot> {
  const dir = await files.dir({ 'sidecar.yaml': YAML });
  const loaded = await loadConfig({ configPath: join(dir, 'sidecar.yaml'), env: {}, hostname: 'alpha', interfaces: ['lo', 'eth0'] });
  assert.ok(loaded.ok, loaded.ok ? '' : formatProblems(loaded.problems));
  const { config } = loaded;
  const engine = createEngine(config);
  const { state } = engine.step(engine.initial(0, 7), {
    type: 'message',
    path: 'ucast:eth0',
    message: { type: 'heartbeat', node: 'beta', generation: 3, seq: 1, sentAtMs: 40, priority: 10, healthy: true, standby: false, maintenance: false, takeoverEpoch: 0, groups: [{ group: 'web', claim: 'held' }], echoes: [] },
  }, 50);
  const transition = { group: 'web', from: 'none', to: 'acquiring', reason: 'elected', at: '2026-01-01T00:00:00.000Z' } as const;
  return describeStatus({
    config,
    configHash: 'c0ffee',
    state,
    present: new Map(),
    lastTransition: transition,
    recentTransitions: [transition],
    now: 60,
    pathIds: ['ucast:eth0'],
    containers: [{ group: 'web', name: 'nginx', dockerUp: true, dockerError: null, state: 'paused', health: 'none', healthWaiting: 'paused on a standby' }],
    reload: { at: '2026-01-01T00:00:01.000Z', trigger: 'SIGHUP', result: 'refused', problems: ['sidecar.yaml:3: bad'], applied: [], restart: [] },
  });
}

test("what the daemon describes, sent as JSON, is what the CLI's check reads back", async () => {
  const s = await snapshot();
  assert.equal(s.peers[0]?.node, 'beta', 'the peer heard is in the snapshot');
  assert.equal(s.groups[0]?.holder, 'beta');
  assert.deepEqual(statusSnapshotSchema.parse(JSON.parse(JSON.stringify(s))), s);
});

test('the check refuses what is not a snapshot and ignores fields it does not know', async () => {
  const sent = JSON.parse(JSON.stringify(await snapshot())) as { groups: { localClaim: string }[]; peers: { paths: { state: string }[] }[] };
  const parsed = statusSnapshotSchema.safeParse({ ...sent, groups: [{ ...sent.groups[0], localClaim: 'owned' }] });
  assert.equal(parsed.success, false);
  assert.deepEqual(parsed.error?.issues.map((i) => i.path.join('.')), ['groups.0.localClaim']);
  const deadPath = statusSnapshotSchema.safeParse({ ...sent, peers: [{ ...sent.peers[0], paths: [{ ...sent.peers[0]?.paths[0], state: 'gone' }] }] });
  assert.deepEqual(deadPath.error?.issues.map((i) => i.path.join('.')), ['peers.0.paths.0.state']);
  const newer = statusSnapshotSchema.parse({ ...sent, addedByANewerDaemon: true });
  assert.equal('addedByANewerDaemon' in newer, false);
});
