/**
 * Heartbeat's command-line tools, over the HTTP API: `cl_status` (rscstatus, hbstatus,
 * nodestatus, listnodes) and `hb_standby` / `hb_takeover`. Words, sentences and exit codes are
 * Heartbeat's (lib/cl_status.c, hb_standby), so scripts and runbooks written for it keep working.
 */
import { Command } from 'commander';
import { rscstatusSentence } from '../api/rscstatus.js';
import type { StatusSnapshot } from '../daemon/status.js';
import { readToken } from './client.js';
import { CliError } from './errors.js';
import { CL_STATUS_EXIT, tokenFileOf, withApi, withToken, type ApiOptions, type Session, type TokenOptions } from './session.js';

type HumanOption = { readonly m?: boolean };

export function clStatusCommand(session: Session): Command {
  const cl = session.configure(new Command('cl_status')).description("Heartbeat's cl_status, answered by this node's heartbeat-sidecar");
  const humanHelp = 'print a sentence instead of the bare word';

  withApi(cl.command('rscstatus'))
    .description('which resources this node holds: all, local, foreign, none or transition')
    .option('-m', humanHelp)
    .action(async (opts: ApiOptions & HumanOption) => {
      const s = await session.client(opts).status();
      session.print(opts.m === true ? rscstatusSentence(s.rscstatus) : s.rscstatus);
    });

  withApi(cl.command('hbstatus'))
    .description('whether the daemon runs on this machine (exit 1 when it does not)')
    .option('-m', humanHelp)
    .action(async (opts: ApiOptions) => {
      try {
        await session.client(opts).status();
      } catch (err) {
        if (!(err instanceof CliError && err.code === 'HB_CLI_API_UNREACHABLE')) throw err;
        session.print('Heartbeat is stopped on this machine.');
        session.exitCode = CL_STATUS_EXIT.normalFail;
        return;
      }
      session.print('Heartbeat is running on this machine.');
    });

  withApi(cl.command('nodestatus'))
    .description('active, dead or init for a cluster node (exit 1 unless active)')
    .argument('<node>', 'node name, as in ha.cf `node` lines')
    .option('-m', humanHelp)
    .action(async (node: string, opts: ApiOptions & HumanOption) => {
      const word = nodeStatusWord(await session.client(opts).status(), node);
      if (word === null) throw new CliError('HB_CLI_UNKNOWN_NODE', `no node "${node}" in this cluster (see cl_status listnodes)`);
      session.print(opts.m === true ? `The cluster node ${node} is ${word}` : word);
      if (word !== 'active') session.exitCode = CL_STATUS_EXIT.normalFail;
    });

  withApi(cl.command('listnodes'))
    .description('every cluster node, this one included, one per line')
    .option('-m', humanHelp)
    .action(async (opts: ApiOptions & HumanOption) => {
      const s = await session.client(opts).status();
      // Heartbeat's own header, typo and all.
      if (opts.m === true) session.print('The nodes are as follow:');
      for (const node of [s.node, ...s.peers.map((p) => p.node)].sort()) session.print(node);
    });

  return cl;
}

/**
 * Heartbeat's node states: `active` for this node and peers heard within deadtime, `dead`
 * otherwise; a peer not yet heard is `init` until initdead is over, as in Heartbeat, then `dead`.
 */
function nodeStatusWord(s: StatusSnapshot, node: string): 'active' | 'dead' | 'init' | null {
  if (node === s.node) return 'active';
  const peer = s.peers.find((p) => p.node === node);
  if (peer === undefined) return null;
  switch (peer.state) {
    case 'up':
    case 'late':
      return 'active';
    case 'dead':
    case 'left':
      return 'dead';
    case 'unknown':
      return s.ready ? 'dead' : 'init';
  }
}

export function hbStandbyCommand(session: Session): Command {
  return heartbeatMove(session, 'hb_standby', 'hand every group this node holds to a peer', async (opts) => {
    await session.client(opts).standby(await readToken(tokenFileOf(session, opts)));
    session.print('Going standby [all].');
  });
}

export function hbTakeoverCommand(session: Session): Command {
  // Heartbeat's hb_takeover prints nothing on success.
  return heartbeatMove(session, 'hb_takeover', 'take every group over from its holder', async (opts) => {
    await session.client(opts).takeover(await readToken(tokenFileOf(session, opts)));
  });
}

function heartbeatMove(session: Session, name: string, description: string, move: (opts: ApiOptions & TokenOptions) => Promise<void>): Command {
  const cmd = withToken(session.configure(new Command(name)))
    .description(`Heartbeat's ${name}: ${description}`)
    .argument('[resources]', 'only "all": the sidecar moves every group together', 'all');
  return cmd.action(async (resources: string, opts: ApiOptions & TokenOptions) => {
    if (resources !== 'all') {
      throw new CliError('HB_CLI_UNSUPPORTED', `${name} ${resources} is not supported: only "all" (the default), because the sidecar moves every group it holds together`);
    }
    await move(opts);
  });
}
