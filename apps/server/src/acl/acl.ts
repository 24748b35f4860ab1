import { timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { E } from '@respai/core';
import { splitArgs } from '../resp/decoder.js';
import type { Command } from '../commands/types.js';
import { CommandCatalog } from './categories.js';
import { RuleError, User, hashPassword } from './user.js';

/**
 * The server's users (Redis 7's ACL, docs/operations.md). The default user starts as
 * `on nopass ~* &* +@all`, or with `requirepass` as its one password; an `aclfile` read at start
 * replaces the set.
 */
export class Acl {
  readonly catalog: CommandCatalog;
  readonly users = new Map<string, User>();
  /** The default user object stays the same for the server's life (connections hold it). */
  readonly defaultUser: User;

  constructor(
    commands: ReadonlyMap<string, Command>,
    requirepass: string,
    readonly aclfile: string,
  ) {
    this.catalog = new CommandCatalog(commands);
    this.defaultUser = this.newDefault();
    this.users.set('default', this.defaultUser);
    this.setRequirepass(requirepass);
    if (aclfile !== '') {
      const error = this.load();
      if (error !== undefined) throw new Error(error);
    }
  }

  private newDefault(): User {
    const u = new User('default', this.catalog);
    for (const r of ['on', 'nopass', '~*', '&*', '+@all']) u.apply(r);
    return u;
  }

  /** requirepass set (at start or by CONFIG SET): the default user's only password, or nopass. */
  setRequirepass(password: string): void {
    this.defaultUser.apply('resetpass');
    this.defaultUser.apply(password === '' ? 'nopass' : `>${password}`);
  }

  /** Redis's authRequired(): connections that never authenticated must AUTH unless default is open. */
  get defaultNeedsAuth(): boolean {
    const d = this.defaultUser;
    return !d.nopass || !d.enabled;
  }

  /** The user these credentials open, or undefined (WRONGPASS: unknown, disabled or wrong). */
  authenticate(name: string, password: Buffer): User | undefined {
    const u = this.users.get(name);
    if (u === undefined || !u.enabled) return undefined;
    if (u.nopass) return u;
    const h = Buffer.from(hashPassword(password));
    return u.passwords.some((p) => timingSafeEqual(Buffer.from(p), h)) ? u : undefined;
  }

  /**
   * ACL SETUSER: every rule is applied to a copy first; nothing changes unless all are valid.
   * Returns the error text (Redis's) or undefined.
   */
  setUser(name: string, rules: readonly string[]): string | undefined {
    if (/[\s\0]/.test(name)) return E.aclBadUsername;
    const existing = this.users.get(name);
    const staged = existing?.clone() ?? this.create(name);
    for (const r of rules) {
      try {
        staged.apply(r);
      } catch (e) {
        if (e instanceof RuleError) return E.aclBadModifier(r, e.message);
        throw e;
      }
    }
    if (existing === undefined) this.users.set(name, staged);
    else existing.copyFrom(staged);
    return undefined;
  }

  /** A new user: `off resetchannels -@all`, no password, no keys. */
  private create(name: string): User {
    const u = new User(name, this.catalog);
    u.apply('-@all');
    return u;
  }

  /** Users' lines in name order (ACL LIST, ACL SAVE). */
  list(): string[] {
    return [...this.users.keys()].sort().map((n) => this.users.get(n)!.describe());
  }

  /**
   * Reads the ACL file (ACL LOAD, and at start). All or nothing: with any error the users stay as
   * they were and the error text (Redis's, every problem on one line) is returned. Users other
   * than default are new objects: the caller disconnects their connections, as Redis does.
   */
  load(): string | undefined {
    const file = this.aclfile;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      return `Error loading ACLs, opening file '${file}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`;
    }
    const fresh = new Map<string, User>();
    let errors = '';
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      const n = i + 1;
      if (line === '') return;
      const words = splitArgs(Buffer.from(line))?.map((w) => w.toString());
      if (words === undefined) {
        errors += `${file}:${n}: unbalanced quotes in acl line. `;
        return;
      }
      if (words.length === 0) return;
      if (words[0] !== 'user' || words.length < 2) {
        errors += `${file}:${n} should start with user keyword followed by the username. `;
        return;
      }
      const name = words[1]!;
      if (fresh.has(name)) {
        errors += `WARNING: Duplicate user '${name}' found on line ${n}. `;
        return;
      }
      const u = this.create(name);
      let syntax = false;
      for (const r of words.slice(2)) {
        try {
          u.apply(r);
        } catch (e) {
          if (!(e instanceof RuleError)) throw e;
          if (e.message.startsWith('Unknown command')) errors += `${file}:${n}: Error in applying operation '${r}': ${e.message}. `;
          else if (!syntax) {
            errors += `${file}:${n}: ${e.message}. `;
            syntax = true;
          }
        }
      }
      fresh.set(name, u);
    });
    if (errors !== '') return errors.trimEnd();
    const def = fresh.get('default');
    this.defaultUser.copyFrom(def ?? this.newDefault());
    fresh.set('default', this.defaultUser);
    this.users.clear();
    for (const [k, v] of fresh) this.users.set(k, v);
    return undefined;
  }

  /** ACL SAVE: every user's line, written to a temporary file renamed over the ACL file. */
  save(): void {
    const tmp = `${this.aclfile}.tmp-${process.pid}`;
    writeFileSync(tmp, this.list().join('\n') + '\n');
    renameSync(tmp, this.aclfile);
  }
}
