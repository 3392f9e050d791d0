import { Injectable, type OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

/**
 * argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 20-40 ms per hash here,
 * which bounds what a sign-in costs us and what a stolen hash costs an attacker.
 */
export const ARGON2_PARAMS = {
  type: argon2.argon2id,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
} as const;

@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash: Promise<string> | undefined;

  onModuleInit(): void {
    // made once at boot, so the first unknown-user sign-in costs what any other does
    void this.dummy().catch(() => undefined);
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, ARGON2_PARAMS);
  }

  /** false for a wrong password and for a hash argon2 cannot read */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spends what a verification costs, for sign-ins of unknown users, so timing does not tell who has an account. */
  async verifyAgainstDummy(password: string): Promise<void> {
    await this.verify(await this.dummy(), password);
  }

  /** the hash was made with other parameters than today's; sign-in re-hashes it */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, ARGON2_PARAMS);
    } catch {
      return true;
    }
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hash(randomBytes(32).toString('base64url')).catch((err: unknown) => {
      this.dummyHash = undefined; // try again next time rather than fail every unknown-user sign-in
      throw err;
    });
    return this.dummyHash;
  }
}
