/**
 * Console users in PostgreSQL (DATABASE_URL), shared by every precall instance of a deployment,
 * so a person signs in through any of them and `precall users add` on one machine takes effect
 * everywhere. The same rows and rules as SqliteUserStore (store.ts).
 */
import { PostgresError, type PostgresBridge } from '../postgres/bridge.js';
import { migrateComponent } from '../postgres/migrate.js';
import type { User } from './user.js';
import { UserExistsError, type UserStore } from './store.js';

/** Schema steps of component `users`; append, never edit a released one. */
export const USERS_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE console_users (
    username text PRIMARY KEY,
    role text NOT NULL,
    crew text,
    password_hash text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  `,
];

const fromRow = (r: Record<string, unknown>): User => ({
  username: r.username as string,
  role: r.role as User['role'],
  crew: (r.crew as string | null) ?? null,
  passwordHash: r.password_hash as string,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export class PostgresUserStore implements UserStore {
  /** `db` stays the caller's: close() does not close it. */
  constructor(private readonly db: PostgresBridge) {
    migrateComponent(db, 'users', USERS_MIGRATIONS, 'the console users');
  }

  get(username: string): User | undefined {
    const r = this.db.query('SELECT * FROM console_users WHERE username = $1', [username])[0];
    return r === undefined ? undefined : fromRow(r);
  }

  list(): User[] {
    return this.db.query('SELECT * FROM console_users ORDER BY username COLLATE "C"').map(fromRow);
  }

  add(u: User): void {
    try {
      this.db.query('INSERT INTO console_users (username, role, crew, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        u.username,
        u.role,
        u.crew,
        u.passwordHash,
        u.createdAt,
        u.updatedAt,
      ]);
    } catch (err) {
      if (err instanceof PostgresError && err.code === '23505') throw new UserExistsError(u.username);
      throw err;
    }
  }

  remove(username: string): boolean {
    return this.db.query('DELETE FROM console_users WHERE username = $1 RETURNING username', [username]).length > 0;
  }

  setPassword(username: string, passwordHash: string, at: number): boolean {
    return this.db.query('UPDATE console_users SET password_hash = $1, updated_at = $2 WHERE username = $3 RETURNING username', [passwordHash, at, username]).length > 0;
  }

  close(): void {
    // The bridge belongs to whoever opened it (src/users/open.ts or the caller).
  }
}
