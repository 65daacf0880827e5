/**
 * What the observability tests share: promtool (Debian's `prometheus` package; CI installs it, so
 * there a missing one fails instead of skipping), and a registry holding every metric the daemon
 * exports, each labelled series initialised as the daemon does at start.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { collectProcessMetrics, createMetrics, initContainerSeries, initGroupSeries, initHealthSeries, initPeerSeries, setConfigInfo, type Metrics } from '../../sidecar/src/metrics/index.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RULES = path.join(REPO, 'compose/prometheus/heartbeat-sidecar.rules.yml');
export const RULES_TEST = path.join(REPO, 'compose/prometheus/heartbeat-sidecar.rules.test.yml');
export const DASHBOARD = path.join(REPO, 'compose/grafana/dashboards/heartbeat-sidecar.json');

/** Every query of the dashboard, named by its panel. */
export function dashboardExprs(): Array<{ panel: string; expr: string }> {
  const d = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
  return d.panels.flatMap((p) => (p.targets ?? []).map((t, i) => ({ panel: `${p.title} #${i + 1}`, expr: t.expr })));
}

/** Grafana's variables as Prometheus sees them once Grafana has substituted them. */
export const substitute = (expr: string): string => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replaceAll('$__range', '1h').replaceAll('$pair', '.*');

/** False (skipped) without promtool on a developer machine; throws in CI. */
export function requirePromtool(t: TestContext): boolean {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (probe.error === undefined) return true;
  if (process.env.CI === 'true') assert.fail(`promtool is not on PATH (${probe.error.message}); CI must install the prometheus package`);
  t.skip('promtool is not on PATH (Debian package prometheus)');
  return false;
}

/** Runs promtool; the result's output is stdout and stderr together, for assertion messages. */
export function promtool(args: readonly string[], opts: { input?: string; cwd?: string } = {}): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { input: opts.input, cwd: opts.cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}` };
}

/** Every metric of a node of a two-node pair with one protected container, as at start. */
export function daemonRegistry(): { registry: Registry; metrics: Metrics } {
  const registry = new Registry();
  const metrics = createMetrics(registry, { version: '0.1.0', node: 'alpha' });
  collectProcessMetrics(registry);
  initGroupSeries(metrics, { id: 'web', vips: [{ address: '10.77.0.100' }] });
  metrics.groupHeld.set({ group: 'web' }, 0);
  for (const claim of ['none', 'acquiring', 'held', 'releasing']) metrics.groupClaim.set({ group: 'web', claim }, claim === 'none' ? 1 : 0);
  metrics.peerUp.set({ peer: 'beta' }, 0);
  initPeerSeries(metrics, ['beta'], ['ucast:eth0']);
  initContainerSeries(metrics, 'web');
  initHealthSeries(metrics, ['container', 'http']);
  setConfigInfo(metrics, '0123456789ab');
  metrics.vipPresent.set({ group: 'web', address: '10.77.0.100' }, 0);
  metrics.dockerUp.set({ container: 'web' }, 1);
  metrics.peerLastHeard.set({ peer: 'beta' }, 0.05);
  metrics.socketDrops.set({ socket: '0.0.0.0:694' }, 0);
  return { registry, metrics };
}

/** Names a PromQL expression can use for each metric of the registry (a histogram's series too). */
export async function seriesNames(registry: Registry): Promise<Set<string>> {
  const names = new Set<string>(['up']);
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
    if (String(m.type) === 'summary') for (const suffix of ['_sum', '_count']) names.add(m.name + suffix);
  }
  return names;
}

/** The metric names a PromQL expression reads: identifiers of our families (and `up`). */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b(heartbeat_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(?!\s*\()/g)) names.add(m[1]!);
  return [...names];
}
