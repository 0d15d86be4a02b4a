import os from 'node:os';
import { hash, verify, type Options } from '@node-rs/argon2';
import { isBitrixHash, verifyBitrixHash } from './legacy-hashes.js';

/** argon2id with SPEC §7 rule 9's parameters (OWASP's minimum: 19 MiB, t=2, p=1). */
// `Algorithm` is an ambient const enum the package does not export at run time; 2 is Argon2id.
export const ARGON2_OPTIONS: Options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the same time as a real verification, for unknown accounts (no timing oracle). */
  verifyDummy(password: string): Promise<false>;
}

/**
 * At most `limit` hashes at once. More than one per core only makes them fight for the CPU (and 19 MiB
 * each), and it leaves libuv's other threads free for file and DNS work.
 */
function limiter(limit: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

export async function createArgon2Hasher(concurrency = os.availableParallelism()): Promise<PasswordHasher> {
  const run = limiter(Math.max(1, concurrency));
  // A real hash of a throwaway secret, so the dummy verification costs exactly what a real one does. It is
  // computed on the threadpool while start-up goes on (nothing waits for it but the first dummy check).
  const dummyHash = hash('latchkey-dummy-password', ARGON2_OPTIONS);
  dummyHash.catch(() => undefined);
  const check = (stored: string, password: string) => run(() => verify(stored, password)).catch(() => false);
  // A hash imported from Bitrix (legacy-hashes.ts) checks in microseconds; the dummy argon2id verification
  // beside it keeps its account as slow to answer as any other, so timing tells no account kind apart.
  const checkLegacy = async (stored: string, password: string) => {
    const [ok] = await Promise.all([verifyBitrixHash(stored, password), dummyHash.then((dummy) => check(dummy, password))]);
    return ok;
  };
  return {
    hash: (password) => run(() => hash(password, ARGON2_OPTIONS)),
    verify: (stored, password) => (isBitrixHash(stored) ? checkLegacy(stored, password) : check(stored, password)),
    verifyDummy: async (password) => {
      await check(await dummyHash, password);
      return false;
    },
  };
}
