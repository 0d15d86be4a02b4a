export interface CommandResult {
  status: number;
  output: string;
}

export type RunCommand = (cmd: string, args: string[], cwd: string) => Promise<CommandResult>;

export interface PgClusterOptions {
  /** Prefix of the temp folder's name. */
  prefix?: string;
  /** Extra `-c name=value` server settings (durability is always off). */
  settings?: string;
  run?: RunCommand;
}

export function findPgBinDir(): string | null;
export function runCommand(cmd: string, args: string[], cwd: string): Promise<CommandResult>;

/** A throwaway PostgreSQL cluster on a loopback port (see pg-cluster.js). */
export class PgCluster {
  constructor(options?: PgClusterOptions);
  static create(options?: PgClusterOptions): Promise<PgCluster>;
  readonly dir: string;
  /** The user its tools run as (null unless we are root). */
  readonly user: string | null;
  port: number;
  url(database?: string): string;
  readonly version: string;
  init(): Promise<void>;
  start(): Promise<void>;
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  pid(): number | undefined;
  destroy(): void;
}
