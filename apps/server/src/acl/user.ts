import { createHash } from 'node:crypto';
import { CATEGORIES, type AclCommand, type CommandCatalog } from './categories.js';

/** Why a rule was refused: Redis's ACLSetUserStringError texts. */
export const RULE_ERRORS = {
  unknown: 'Unknown command or category name in ACL',
  syntax: 'Syntax error',
  afterAllKeys:
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  afterAllChannels:
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  noSuchPassword: 'The password you are trying to remove from the user does not exist',
  badHash: 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters',
  unsupported: 'This rule is not supported by respai',
} as const;

export class RuleError extends Error {}

/** Rules, names and passwords are latin1 strings (one char per byte), like keys. */
export const hashPassword = (p: Buffer | string): string =>
  createHash('sha256').update(typeof p === 'string' ? Buffer.from(p, 'latin1') : p).digest('hex');

const HASH = /^[0-9a-f]{64}$/;
const hasSpace = (s: string) => /[\s\0]/.test(s);

/**
 * One ACL user, as Redis 7 keeps it (without selectors or read/write key patterns): on/off,
 * SHA-256 password hashes or nopass, key and channel patterns, and a bitmap of the commands of
 * the catalog it may run. `restricted` is false for a user that may run everything on every key
 * (the default user, normally): connections of such users skip every check.
 */
export class User {
  enabled = false;
  nopass = false;
  readonly passwords: string[] = [];
  allKeys = false;
  readonly patterns: string[] = [];
  allChannels = false;
  readonly channels: string[] = [];
  /** Set only by +@all / allcommands: commands added later are allowed (Redis's "future commands" bit). */
  allCommands = false;
  /** RESTORE payload checking: Redis keeps the flag; respai always checks payloads. */
  sanitize: '' | 'sanitize-payload' | 'skip-sanitize-payload' = '';
  allowed: Uint8Array;
  /** Whether any command or key is out of bounds (computed after each change). */
  restricted = true;

  constructor(
    readonly name: string,
    private readonly catalog: CommandCatalog,
  ) {
    this.allowed = new Uint8Array(catalog.size);
  }

  clone(name = this.name): User {
    const u = new User(name, this.catalog);
    u.copyFrom(this);
    return u;
  }

  copyFrom(o: User): void {
    this.enabled = o.enabled;
    this.nopass = o.nopass;
    this.passwords.splice(0, this.passwords.length, ...o.passwords);
    this.allKeys = o.allKeys;
    this.patterns.splice(0, this.patterns.length, ...o.patterns);
    this.allChannels = o.allChannels;
    this.channels.splice(0, this.channels.length, ...o.channels);
    this.allCommands = o.allCommands;
    this.sanitize = o.sanitize;
    this.allowed = Uint8Array.from(o.allowed);
    this.restricted = o.restricted;
  }

  can(c: AclCommand): boolean {
    return this.allowed[c.id] === 1;
  }

  /** Applies one rule (ACLSetUser); throws a RuleError with Redis's text. */
  apply(rule: string): void {
    this.applyOne(rule);
    this.restricted = !this.allKeys || this.allowed.includes(0);
  }

  private applyOne(op: string): void {
    if (op === '') return;
    const lower = op.toLowerCase();
    switch (lower) {
      case 'on':
        this.enabled = true;
        return;
      case 'off':
        this.enabled = false;
        return;
      case 'sanitize-payload':
      case 'skip-sanitize-payload':
        this.sanitize = lower;
        return;
      case 'clearselectors':
        return;
      case 'nopass':
        this.nopass = true;
        this.passwords.length = 0;
        return;
      case 'resetpass':
        this.nopass = false;
        this.passwords.length = 0;
        return;
      case 'allkeys':
      case '~*':
        this.allKeys = true;
        this.patterns.length = 0;
        return;
      case 'resetkeys':
        this.allKeys = false;
        this.patterns.length = 0;
        return;
      case 'allchannels':
      case '&*':
        this.allChannels = true;
        this.channels.length = 0;
        return;
      case 'resetchannels':
        this.allChannels = false;
        this.channels.length = 0;
        return;
      case 'allcommands':
      case '+@all':
        this.allowed.fill(1);
        this.allCommands = true;
        return;
      case 'nocommands':
      case '-@all':
        this.allowed.fill(0);
        this.allCommands = false;
        return;
      case 'reset':
        for (const r of ['resetpass', 'resetkeys', 'resetchannels', 'off', 'sanitize-payload', '-@all']) this.applyOne(r);
        return;
    }
    const first = op[0]!;
    if (first === '>' || first === '#') {
      const hash = first === '>' ? hashPassword(op.slice(1)) : op.slice(1);
      if (first === '#' && !HASH.test(hash)) throw new RuleError(RULE_ERRORS.badHash);
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.nopass = false;
      return;
    }
    if (first === '<' || first === '!') {
      const hash = first === '<' ? hashPassword(op.slice(1)) : op.slice(1);
      if (first === '!' && !HASH.test(hash)) throw new RuleError(RULE_ERRORS.badHash);
      const at = this.passwords.indexOf(hash);
      if (at < 0) throw new RuleError(RULE_ERRORS.noSuchPassword);
      this.passwords.splice(at, 1);
      return;
    }
    if (first === '~') {
      if (this.allKeys) throw new RuleError(RULE_ERRORS.afterAllKeys);
      const p = op.slice(1);
      if (hasSpace(p)) throw new RuleError(RULE_ERRORS.syntax);
      if (!this.patterns.includes(p)) this.patterns.push(p);
      return;
    }
    if (first === '%') throw new RuleError(RULE_ERRORS.unsupported);
    if (first === '&') {
      if (this.allChannels) throw new RuleError(RULE_ERRORS.afterAllChannels);
      const p = op.slice(1);
      if (hasSpace(p)) throw new RuleError(RULE_ERRORS.syntax);
      if (!this.channels.includes(p)) this.channels.push(p);
      return;
    }
    if ((first === '+' || first === '-') && op.length > 1) {
      const allow = first === '+';
      if (op[1] === '@') {
        const cat = lower.slice(2);
        if (!(CATEGORIES as readonly string[]).includes(cat)) throw new RuleError(RULE_ERRORS.unknown);
        setCategory(this.allowed, this.catalog, cat, allow);
        return;
      }
      const c = this.catalog.lookup(lower.slice(1));
      // `+select|0`-style first-argument rules (deprecated in Redis) are not supported.
      if (c === undefined) throw new RuleError(lower.includes('|') && allow && this.catalog.lookup(lower.slice(1, lower.indexOf('|'))) !== undefined ? RULE_ERRORS.unsupported : RULE_ERRORS.unknown);
      changePerm(this.allowed, c, allow);
      return;
    }
    throw new RuleError(RULE_ERRORS.syntax);
  }

  /** ACL GETUSER's flags. */
  flags(): string[] {
    const f = [this.enabled ? 'on' : 'off'];
    if (this.nopass) f.push('nopass');
    if (this.sanitize !== '') f.push(this.sanitize);
    return f;
  }

  /** `~a ~b`, `~*`, or '' (ACL GETUSER keys). */
  keysRule(): string {
    return this.allKeys ? '~*' : this.patterns.map((p) => `~${p}`).join(' ');
  }

  channelsRule(): string {
    return this.allChannels ? '&*' : this.channels.map((p) => `&${p}`).join(' ');
  }

  /**
   * The command rules that rebuild this user's bitmap, as Redis 7.0 describes them
   * (ACLDescribeSelectorCommandRules): +@all or -@all, the categories that fit best, then single
   * commands for what remains.
   */
  commandRules(): string {
    const additive = !this.allCommands;
    const rules: string[] = [additive ? '-@all' : '+@all'];
    const fake = new Uint8Array(this.allowed.length).fill(additive ? 0 : 1);
    const temp = Uint8Array.from(this.allowed);
    const applied = new Set<string>();
    for (;;) {
      let best: string | undefined;
      let minDiff = Infinity;
      let maxSame = 0;
      for (const cat of CATEGORIES) {
        if (applied.has(cat)) continue;
        let on = 0;
        let off = 0;
        for (const c of this.catalog.inCategory(cat)) if (temp[c.id] === 1) on++;
        else off++;
        const diff = additive ? off : on;
        const same = additive ? on : off;
        if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
          best = cat;
          minDiff = diff;
          maxSame = same;
        }
      }
      if (best === undefined) break;
      setCategory(fake, this.catalog, best, additive);
      setCategory(temp, this.catalog, best, !additive);
      rules.push(`${additive ? '+' : '-'}@${best}`);
      applied.add(best);
    }
    for (const c of this.catalog.all) {
      const want = this.allowed[c.id]!;
      if (fake[c.id] !== want) {
        rules.push(`${want === 1 ? '+' : '-'}${c.fullName}`);
        changePerm(fake, c, want === 1);
      }
    }
    return rules.join(' ');
  }

  /** ACL LIST's line (also the ACL file's). */
  describe(): string {
    const parts = [`user ${this.name}`, ...this.flags()];
    for (const h of this.passwords) parts.push(`#${h}`);
    const keys = this.keysRule();
    if (keys !== '') parts.push(keys);
    parts.push(this.allChannels ? '&*' : ['resetchannels', ...this.channels.map((p) => `&${p}`)].join(' '));
    parts.push(this.commandRules());
    return parts.join(' ');
  }
}

/** ACLChangeSelectorPerm: a command's bit, and a container's subcommands with it. */
function changePerm(bits: Uint8Array, c: AclCommand, allow: boolean): void {
  const v = allow ? 1 : 0;
  bits[c.id] = v;
  if (c.subcommands !== undefined) for (const s of c.subcommands.values()) bits[s.id] = v;
}

function setCategory(bits: Uint8Array, catalog: CommandCatalog, cat: string, allow: boolean): void {
  for (const c of catalog.inCategory(cat)) changePerm(bits, c, allow);
}
