import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/clock';
import { BUILT_IN_RULES } from './built-in-rules';
import { compileMatch, type Rule } from './rule.schema';

export type RuleSource = 'user' | 'builtIn';

/** A rule as installed: its definition plus how often it has applied. */
export interface InstalledRule {
  readonly id: string;
  readonly source: RuleSource;
  readonly rule: Rule;
  readonly pattern: RegExp;
  hits: number;
  firstHitAt: number | undefined;
}

export interface RuleView extends Rule {
  readonly id: string;
  readonly source: RuleSource;
  readonly hits: number;
  readonly active: boolean;
}

/**
 * The scripted behaviours: an ordered list of rules (installed ones first, then the built-in demo rules); the
 * first active rule whose pattern matches any recipient address (to, cc or bcc) decides what a send does.
 * Selecting is O(rules × recipients), independent of how many emails were sent.
 */
export class RuleBook {
  private user: InstalledRule[] = [];
  private readonly builtIns: InstalledRule[];
  private builtInsEnabled: boolean;

  constructor(
    private readonly clock: Clock,
    initial: readonly Rule[] = [],
    builtInsEnabled = true,
  ) {
    this.builtIns = BUILT_IN_RULES.map((rule) => install(rule, 'builtIn'));
    this.builtInsEnabled = builtInsEnabled;
    this.add(initial);
  }

  /** The rule that applies to a send to these addresses, counting it as applied. */
  select(addresses: readonly string[]): InstalledRule | undefined {
    const now = this.clock.now();
    const found =
      findMatch(this.user, addresses, now) ??
      (this.builtInsEnabled ? findMatch(this.builtIns, addresses, now) : undefined);
    if (found) {
      found.hits += 1;
      found.firstHitAt ??= now;
    }
    return found;
  }

  /** Appends rules (evaluated after the ones already installed). Refuses duplicate ids, installing none. */
  add(rules: readonly Rule[]): RuleView[] {
    const installed = rules.map((rule) => install(rule, 'user'));
    const ids = new Set(this.user.map((rule) => rule.id));
    for (const rule of installed) {
      if (ids.has(rule.id)) throw new DuplicateRuleIdError(rule.id);
      ids.add(rule.id);
    }
    this.user.push(...installed);
    return installed.map((rule) => this.view(rule));
  }

  /** Replaces every installed rule (built-ins stay). */
  replace(rules: readonly Rule[]): RuleView[] {
    const previous = this.user;
    this.user = [];
    try {
      return this.add(rules);
    } catch (error) {
      this.user = previous;
      throw error;
    }
  }

  remove(id: string): boolean {
    const before = this.user.length;
    this.user = this.user.filter((rule) => rule.id !== id);
    return this.user.length < before;
  }

  clear(): void {
    this.user = [];
  }

  setBuiltInsEnabled(enabled: boolean): void {
    this.builtInsEnabled = enabled;
  }

  /** Forgets how often each rule applied (`times` and `forMs` start over). */
  resetCounters(): void {
    for (const rule of [...this.user, ...this.builtIns]) {
      rule.hits = 0;
      rule.firstHitAt = undefined;
    }
  }

  list(): { rules: RuleView[]; builtIns: { enabled: boolean; rules: RuleView[] } } {
    return {
      rules: this.user.map((rule) => this.view(rule)),
      builtIns: { enabled: this.builtInsEnabled, rules: this.builtIns.map((rule) => this.view(rule)) },
    };
  }

  private view(installed: InstalledRule): RuleView {
    return {
      ...installed.rule,
      id: installed.id,
      source: installed.source,
      hits: installed.hits,
      active: isActive(installed, this.clock.now()),
    };
  }
}

export class DuplicateRuleIdError extends Error {
  constructor(readonly id: string) {
    super(`a rule with id "${id}" is already installed`);
  }
}

function install(rule: Rule, source: RuleSource): InstalledRule {
  const pattern = compileMatch(rule.match);
  // The schema refuses bad patterns; reaching this is a programming error.
  if (!pattern) throw new TypeError(`invalid match pattern ${JSON.stringify(rule.match)}`);
  return { id: rule.id ?? randomUUID(), source, rule, pattern, hits: 0, firstHitAt: undefined };
}

function isActive(rule: InstalledRule, now: number): boolean {
  const { times, forMs } = rule.rule;
  if (times !== undefined && rule.hits >= times) return false;
  if (forMs !== undefined && rule.firstHitAt !== undefined && now - rule.firstHitAt >= forMs) return false;
  return true;
}

function findMatch(
  rules: readonly InstalledRule[],
  addresses: readonly string[],
  now: number,
): InstalledRule | undefined {
  for (const rule of rules) {
    if (!isActive(rule, now)) continue;
    for (const address of addresses) if (rule.pattern.test(address)) return rule;
  }
  return undefined;
}
