/**
 * The command line: `heartbeat-sidecar run|status|standby|takeover|maintenance|check-config`,
 * and Heartbeat's `cl_status`, `hb_standby` and `hb_takeover`. Those three are picked by the
 * name the program runs under (a symlink) or by the first argument (a one-line shell shim), so
 * `docker exec <sidecar> cl_status rscstatus -m` works as it did with Heartbeat.
 */
import path from 'node:path';
import { Argument, Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { readToken } from './client.js';
import { CliError } from './errors.js';
import { formatStatus } from './format.js';
import { clStatusCommand, hbStandbyCommand, hbTakeoverCommand } from './heartbeat.js';
import { CL_STATUS_EXIT, createSession, envValue, tokenFileOf, withApi, withToken, type ApiOptions, type Env, type Session, type TokenOptions } from './session.js';

export const DEFAULT_HA_DIR = '/etc/ha.d';

export interface DaemonSource {
  readonly configPath: string | null;
  readonly haDir: string;
}

export interface CliDeps {
  readonly runDaemon: (opts: DaemonSource) => Promise<void>;
  readonly checkConfig: (opts: DaemonSource) => Promise<{ ok: boolean; text: string }>;
  readonly fetch?: typeof fetch;
  /** Receives stdout text, newlines included. */
  readonly out?: (s: string) => void;
  /** Receives stderr text, newlines included. */
  readonly err?: (s: string) => void;
}

const SHIMS = ['cl_status', 'hb_standby', 'hb_takeover'] as const;
type ProgramName = 'heartbeat-sidecar' | (typeof SHIMS)[number];

/** heartbeat-sidecar's own exit codes; the Heartbeat shims keep Heartbeat's. */
const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * Runs one command and resolves to its exit code. `argv` is the whole process.argv. Expected
 * failures (API down, token refused, bad arguments) are one line on stderr and a non-zero code;
 * an error from `run` is rethrown, so the daemon's fatal path (release, then exit) handles it.
 */
export async function runCli(argv: string[], env: Env, deps: CliDeps): Promise<number> {
  const io = { out: deps.out ?? ((s: string) => void process.stdout.write(s)), err: deps.err ?? ((s: string) => void process.stderr.write(s)) };
  const session = createSession(env, io, deps.fetch ?? fetch);
  const { name, args } = dispatch(argv);
  let daemonStarted = false;
  const program = name === 'heartbeat-sidecar' ? mainProgram(session, deps, () => (daemonStarted = true)) : shim(name, session);
  try {
    await program.parseAsync(args, { from: 'user' });
    return session.exitCode;
  } catch (err) {
    if (daemonStarted) throw err;
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : name === 'cl_status' ? CL_STATUS_EXIT.parameterError : EXIT.usage;
    io.err(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof CliError ? exitCodeFor(name, err) : EXIT.failure;
  }
}

function dispatch(argv: readonly string[]): { name: ProgramName; args: string[] } {
  const [, script = '', ...rest] = argv;
  const invokedAs = path.basename(script).replace(/\.[cm]?[jt]s$/, '');
  if (isShim(invokedAs)) return { name: invokedAs, args: rest };
  const [first, ...others] = rest;
  if (first !== undefined && isShim(first)) return { name: first, args: others };
  return { name: 'heartbeat-sidecar', args: rest };
}

function isShim(name: string): name is (typeof SHIMS)[number] {
  return (SHIMS as readonly string[]).includes(name);
}

function shim(name: (typeof SHIMS)[number], session: Session): Command {
  switch (name) {
    case 'cl_status':
      return clStatusCommand(session);
    case 'hb_standby':
      return hbStandbyCommand(session);
    case 'hb_takeover':
      return hbTakeoverCommand(session);
  }
}

function exitCodeFor(name: ProgramName, err: CliError): number {
  if (name !== 'cl_status') return EXIT.failure;
  switch (err.code) {
    case 'HB_CLI_API_TIMEOUT':
      return CL_STATUS_EXIT.timeout;
    case 'HB_CLI_UNKNOWN_NODE':
    case 'HB_CLI_UNSUPPORTED':
      return CL_STATUS_EXIT.parameterError;
    default:
      return CL_STATUS_EXIT.normalFail;
  }
}

interface SourceOptions {
  readonly config?: string;
  readonly haDir?: string;
}

function mainProgram(session: Session, deps: CliDeps, onDaemonStart: () => void): Command {
  const program = session
    .configure(new Command('heartbeat-sidecar'))
    .description('Keeps a service reachable on one shared IP across Docker hosts: UDP heartbeats, a VIP, failover.')
    .version(VERSION);

  const source = (opts: SourceOptions): DaemonSource => ({
    configPath: opts.config ?? envValue(session.env, 'HB_CONFIG') ?? null,
    haDir: opts.haDir ?? envValue(session.env, 'HB_HA_DIR') ?? DEFAULT_HA_DIR,
  });
  const withSource = (cmd: Command): Command =>
    cmd
      .option('--config <file>', 'native YAML config (env HB_CONFIG); without it the Heartbeat files are read')
      .option('--ha-dir <dir>', `directory holding ha.cf, authkeys and haresources (env HB_HA_DIR, default ${DEFAULT_HA_DIR})`);

  withSource(program.command('run'))
    .description('run the daemon in the foreground')
    .action(async (opts: SourceOptions) => {
      onDaemonStart();
      await deps.runDaemon(source(opts));
    });

  withSource(program.command('check-config'))
    .description('load and validate the configuration, print every problem, exit 1 if there is any')
    .action(async (opts: SourceOptions) => {
      const result = await deps.checkConfig(source(opts));
      session.print(result.text);
      if (!result.ok) session.exitCode = EXIT.failure;
    });

  withApi(program.command('status'))
    .description("this node's view: role, groups and holders, peers, last transition")
    .option('--json', 'print the raw /status JSON')
    .action(async (opts: ApiOptions & { json?: boolean }) => {
      const s = await session.client(opts).status();
      session.print(opts.json === true ? JSON.stringify(s, null, 2) : formatStatus(s));
    });

  withToken(program.command('standby'))
    .description('hand every group this node holds to a peer, through the planned handover')
    .action(async (opts: ApiOptions & TokenOptions) => {
      await session.client(opts).standby(await readToken(tokenFileOf(session, opts)));
      session.print('standby accepted: this node releases its groups to a peer (see `heartbeat-sidecar status`)');
    });

  withToken(program.command('reload'))
    .description('read the configuration again: apply it in place, or refuse it with every problem and run on as before')
    .action(async (opts: ApiOptions & TokenOptions) => {
      const r = await session.client(opts).reload(await readToken(tokenFileOf(session, opts)));
      if (r.result === 'refused') {
        session.print(`reload refused; the daemon runs on with its current configuration:\n${r.problems.join('\n')}`);
        session.exitCode = EXIT.failure;
        return;
      }
      const restart = r.restart.length === 0 ? '' : `\ntaking effect at the next restart: ${r.restart.join(', ')}`;
      session.print(`reload applied: ${r.applied.length === 0 ? 'no change' : r.applied.join(', ')}${restart}`);
    });

  withToken(program.command('takeover'))
    .description('take every group over from its holder, through the planned handover')
    .action(async (opts: ApiOptions & TokenOptions) => {
      await session.client(opts).takeover(await readToken(tokenFileOf(session, opts)));
      session.print('takeover accepted: this node acquires the groups as their holders release them (see `heartbeat-sidecar status`)');
    });

  withToken(program.command('maintenance'))
    .description('on: release everything and hold nothing, even alone; off: take part in elections again')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .action(async (state: 'on' | 'off', opts: ApiOptions & TokenOptions) => {
      await session.client(opts).maintenance(await readToken(tokenFileOf(session, opts)), state === 'on');
      session.print(state === 'on' ? 'maintenance on: this node releases everything and holds nothing until `maintenance off`' : 'maintenance off: this node takes part in elections again');
    });

  program.addHelpText(
    'after',
    '\nHeartbeat tools, as `heartbeat-sidecar <tool> ...` or through a symlink named after the tool:\n' +
      '  cl_status rscstatus [-m] | hbstatus | nodestatus <node> [-m] | listnodes [-m]\n' +
      '  hb_standby [all], hb_takeover [all]',
  );
  return program;
}
