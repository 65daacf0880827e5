import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one program without a shell. Injected so adapters can be tested without touching the host. */
export type RunCommand = (file: string, args: readonly string[], input?: string) => Promise<CommandResult>;

export class CommandError extends Error {
  readonly code = 'HB_COMMAND_FAILED';
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    super(`${command} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'CommandError';
  }
}

export function spawnCommand(timeoutMs = 5000): RunCommand {
  return (file, args, input) =>
    new Promise((resolve) => {
      const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: timeoutMs });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      // A missing binary surfaces as an error event, not an exit code; report it the same way.
      child.on('error', (err) => resolve({ code: 127, stdout, stderr: stderr + err.message }));
      child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
      if (child.stdin !== null) {
        // A program that exits without reading its input must not become an EPIPE crash here.
        child.stdin.on('error', () => {});
        child.stdin.end(input);
      }
    });
}
