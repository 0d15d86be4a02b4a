import { hash, verify, type Options } from '@node-rs/argon2';

/** argon2id with SPEC §7 rule 9's parameters (OWASP's minimum: 19 MiB, t=2, p=1). */
// `Algorithm` is an ambient const enum the package does not export at run time; 2 is Argon2id.
export const ARGON2_OPTIONS: Options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the same time as a real verification, for unknown accounts (no timing oracle). */
  verifyDummy(password: string): Promise<false>;
}

export async function createArgon2Hasher(): Promise<PasswordHasher> {
  // A real hash of a throwaway secret, so the dummy verification costs exactly what a real one does.
  const dummyHash = await hash('latchkey-dummy-password', ARGON2_OPTIONS);
  return {
    hash: (password) => hash(password, ARGON2_OPTIONS),
    verify: async (stored, password) => {
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    },
    verifyDummy: async (password) => {
      await verify(dummyHash, password).catch(() => false);
      return false;
    },
  };
}
