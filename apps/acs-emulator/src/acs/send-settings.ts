import { Inject, Injectable } from '@nestjs/common';
import { EMULATOR_CONFIG, type EmulatorConfig } from '../config/emulator.config';

export interface SendSettingsView {
  /** Default time from acceptance until an operation is terminal. */
  readonly operationDelayMs: number;
  /** `retry-after` (seconds) on answers about a non-terminal operation. */
  readonly pollRetryAfterSeconds: number;
  /** Whether a repeated `Operation-Id` returns the existing operation instead of sending again. */
  readonly deduplicateOperationIds: boolean;
}

/** The send settings that the admin API can change at run time; they start from the configuration. */
@Injectable()
export class SendSettings {
  private current: SendSettingsView;

  constructor(@Inject(EMULATOR_CONFIG) private readonly config: EmulatorConfig) {
    this.current = this.initial();
  }

  get operationDelayMs(): number {
    return this.current.operationDelayMs;
  }

  get pollRetryAfterSeconds(): number {
    return this.current.pollRetryAfterSeconds;
  }

  get deduplicateOperationIds(): boolean {
    return this.current.deduplicateOperationIds;
  }

  view(): SendSettingsView {
    return { ...this.current };
  }

  update(change: Partial<SendSettingsView>): SendSettingsView {
    this.current = { ...this.current, ...stripUndefined(change) };
    return this.view();
  }

  reset(): void {
    this.current = this.initial();
  }

  private initial(): SendSettingsView {
    const { operationDelayMs, pollRetryAfterSeconds, deduplicateOperationIds } = this.config.acs;
    return { operationDelayMs, pollRetryAfterSeconds, deduplicateOperationIds };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
