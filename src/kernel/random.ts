import { randomBytes, randomInt } from 'node:crypto';

/** The only source of randomness for services; always the CSPRNG in production. */
export interface Random {
  bytes(n: number): Buffer;
  /** A uniform integer in [0, max). */
  int(max: number): number;
}

export const cryptoRandom: Random = {
  bytes: (n) => randomBytes(n),
  int: (max) => randomInt(max),
};
