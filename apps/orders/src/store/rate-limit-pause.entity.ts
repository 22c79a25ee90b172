import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Sending to a resource (the ACS email resource) is paused until `pausedUntil`. */
@Entity({ name: 'rate_limit_pauses' })
export class RateLimitPauseEntity {
  @PrimaryColumn({ type: 'text' })
  resource!: string;

  @Column({ name: 'paused_until', type: 'timestamptz' })
  pausedUntil!: Date;

  @Column({ type: 'text', nullable: true })
  source!: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
