/**
 * Where console users are kept. `UserStore` is the engine-neutral interface the server and the
 * CLI use; `SqliteUserStore` keeps them in DATA_DIR/users.sqlite (better-sqlite3, WAL, busy
 * timeout), so `precall users add` works while `precall serve` runs on the same file.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { User } from './user.js';

export interface UserStore {
  get(username: string): User | undefined;
  /** Every user, by name. */
  list(): User[];
  /** Adds a user; throws UserExistsError when the name is taken. */
  add(user: User): void;
  /** Whether a user was removed. */
  remove(username: string): boolean;
  /** Whether the user exists (and got the new hash). */
  setPassword(username: string, passwordHash: string, at: number): boolean;
  close(): void;
}

export class UserExistsError extends Error {
  constructor(readonly username: string) {
    super(`a user named "${username}" already exists (change the password with \`precall users passwd ${username}\`)`);
    this.name = 'UserExistsError';
  }
}

export const usersFile = (dataDir: string) => join(dataDir, 'users.sqlite');

interface Row {
  username: string;
  role: User['role'];
  crew: string | null;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

const fromRow = (r: Row): User => ({ username: r.username, role: r.role, crew: r.crew, passwordHash: r.password_hash, createdAt: r.created_at, updatedAt: r.updated_at });

export class SqliteUserStore implements UserStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    if (this.db.pragma('user_version', { simple: true }) === 0) {
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS users (
          username TEXT PRIMARY KEY,
          role TEXT NOT NULL,
          crew TEXT,
          password_hash TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        PRAGMA user_version = 1;`);
    }
  }

  get(username: string): User | undefined {
    const r = this.db.prepare<[string], Row>('SELECT * FROM users WHERE username = ?').get(username);
    return r === undefined ? undefined : fromRow(r);
  }

  list(): User[] {
    return this.db.prepare<[], Row>('SELECT * FROM users ORDER BY username').all().map(fromRow);
  }

  add(u: User): void {
    try {
      this.db
        .prepare('INSERT INTO users (username, role, crew, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(u.username, u.role, u.crew, u.passwordHash, u.createdAt, u.updatedAt);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new UserExistsError(u.username);
      throw err;
    }
  }

  remove(username: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE username = ?').run(username).changes > 0;
  }

  setPassword(username: string, passwordHash: string, at: number): boolean {
    return this.db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?').run(passwordHash, at, username).changes > 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
