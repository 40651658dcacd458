import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { databaseUrl, serverBin } from '../playwright.config';

/** A dashboard account made for one test through the operator CLI (`server create-user`). */
export function createUser(): { username: string; password: string } {
  const username = `e2e_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  execFileSync(serverBin, ['create-user', username], {
    input: `${password}\n`,
    env: { ...process.env, DATABASE_URL: databaseUrl, RUST_LOG: 'warn' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return { username, password };
}
