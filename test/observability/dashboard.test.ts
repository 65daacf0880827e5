/**
 * The Grafana dashboard (compose/grafana/dashboards/heartbeat-sidecar.json) and its provisioning:
 * every PromQL expression parses (each goes into a generated rules file for `promtool check
 * rules`, Grafana's variables replaced by values), reads only metrics the daemon exports, and
 * the panels the operators asked for are there.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { DASHBOARD, dashboardExprs as exprs, daemonRegistry, metricNamesIn, promtool, REPO, requirePromtool, seriesNames, substitute } from './promtool.js';

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly targets?: { readonly expr: string }[];
}

const dashboard = () => JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { name: string; query: unknown }[] } };

test('every dashboard expression passes promtool check rules', (t) => {
  if (!requirePromtool(t)) return;
  const rules = { groups: [{ name: 'dashboard', rules: exprs().map((e, i) => ({ record: `dashboard:expr_${i}`, expr: substitute(e.expr) })) }] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-dashboard-'));
  try {
    const file = path.join(dir, 'dashboard.rules.yml');
    fs.writeFileSync(file, YAML.stringify(rules));
    const r = promtool(['check', 'rules', file]);
    assert.equal(r.status, 0, r.output);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every metric the dashboard reads exists in the registry', async () => {
  const names = await seriesNames(daemonRegistry().registry);
  const used = [...exprs().map((e) => ({ where: e.panel, expr: e.expr })), ...dashboard().templating.list.map((v) => ({ where: `variable ${v.name}`, expr: JSON.stringify(v.query) }))];
  for (const { where, expr } of used) for (const name of metricNamesIn(expr)) assert.ok(names.has(name), `${where} reads ${name}, which the daemon does not export`);
  assert.ok(exprs().length >= 20);
});

test('the panels operators need are there', () => {
  const text = JSON.stringify(dashboard());
  for (const metric of [
    'heartbeat_group_held', 'heartbeat_transitions_total', 'heartbeat_peer_up', 'heartbeat_peer_rtt_seconds_bucket', 'heartbeat_heartbeats_late_total',
    'heartbeat_datagrams_rejected_total', 'heartbeat_timer_lateness_seconds_bucket', 'heartbeat_timer_stalls_total', 'heartbeat_takeover_duration_seconds_bucket',
    'heartbeat_docker_up', 'heartbeat_container_actions_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'heartbeat_config_info',
  ]) assert.ok(text.includes(metric), `no panel reads ${metric}`);
  const ids = dashboard().panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('the provisioning files load the dashboard from the folder the provider names', () => {
  const provider = YAML.parse(fs.readFileSync(path.join(REPO, 'compose/grafana/provisioning/dashboards/dashboards.yml'), 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
  assert.equal(provider.apiVersion, 1);
  assert.equal(provider.providers[0]!.type, 'file');
  const datasources = YAML.parse(fs.readFileSync(path.join(REPO, 'compose/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: { type: string }[] };
  assert.equal(datasources.datasources[0]!.type, 'prometheus');
  assert.equal(dashboard().uid, 'heartbeat-sidecar');
  const readme = fs.readFileSync(path.join(REPO, 'compose/README.md'), 'utf8');
  assert.ok(readme.includes(provider.providers[0]!.options.path), 'compose/README.md shows where to mount the dashboards');
});
