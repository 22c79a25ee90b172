import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The local contact-point register (development, tests, and deployments without Altinn Profile): one row per
 * person, or per notification address of an organisation.
 */
@Entity({ name: 'contact_points' })
export class ContactPointEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ name: 'national_identity_number', type: 'text', nullable: true })
  nationalIdentityNumber!: string | null;

  @Column({ name: 'organization_number', type: 'text', nullable: true })
  organizationNumber!: string | null;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @Column({ name: 'is_reserved', type: 'boolean' })
  isReserved!: boolean;
}
