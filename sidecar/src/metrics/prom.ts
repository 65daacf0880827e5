/**
 * The parts of prom-client the daemon uses, each loaded from its own file. The package's index
 * also loads the Pushgateway (node:http, node:https, node:zlib), the Summary (tdigest) and the
 * cluster aggregator (node:cluster): about 7 MB resident that an idle daemon would carry for
 * nothing. The classes are the very ones the index exports (one module cache entry each), so a
 * Registry made from either works with the other's metrics.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry: typeof Prom.Registry = load('prom-client/lib/registry');
export type Registry = Prom.Registry;
export const Counter: typeof Prom.Counter = load('prom-client/lib/counter');
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge: typeof Prom.Gauge = load('prom-client/lib/gauge');
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram: typeof Prom.Histogram = load('prom-client/lib/histogram');
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export const collectDefaultMetrics: typeof Prom.collectDefaultMetrics = load('prom-client/lib/defaultMetrics');
