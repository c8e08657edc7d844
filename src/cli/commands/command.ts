import type { CliIO } from '../io.ts';

export interface Command {
  /** The full `canon <command> --help` text. */
  usage: string;
  run(args: string[], io: CliIO): number | Promise<number>;
}
