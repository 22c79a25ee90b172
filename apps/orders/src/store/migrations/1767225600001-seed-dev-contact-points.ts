import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * A few fictitious contact points for the local register, so that identifier recipients work on the embedded
 * default (`CONTACT_POINTS_SOURCE=local`). The table is only read in local mode; production uses Altinn Profile.
 * Identifiers are synthetic test numbers, addresses use reserved example domains (RFC 2606).
 */
export const DEV_CONTACT_POINTS = [
  { nin: '01017012345', name: 'Ola Nordmann', email: 'ola.nordmann@example.com', reserved: false },
  { nin: '02028012345', name: 'Kari Nordmann', email: 'kari.nordmann@example.com', reserved: true },
  { nin: '03039012345', name: 'Per Uten Epost', email: null, reserved: false },
  { org: '910000001', name: 'Eksempel AS', email: 'post@eksempel-as.example.no' },
  { org: '910000001', name: 'Eksempel AS', email: 'varsel@eksempel-as.example.no' },
  { org: '910000002', name: 'Adresseløs AS', email: null },
] as const;

export class SeedDevContactPoints1767225600001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    for (const entry of DEV_CONTACT_POINTS) {
      if ('nin' in entry) {
        await queryRunner.query(
          'INSERT INTO contact_points (national_identity_number, name, email, is_reserved) VALUES ($1, $2, $3, $4)',
          [entry.nin, entry.name, entry.email, entry.reserved],
        );
      } else {
        await queryRunner.query(
          'INSERT INTO contact_points (organization_number, name, email) VALUES ($1, $2, $3)',
          [entry.org, entry.name, entry.email],
        );
      }
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const nins = DEV_CONTACT_POINTS.flatMap((entry) => ('nin' in entry ? [entry.nin] : []));
    const orgs = DEV_CONTACT_POINTS.flatMap((entry) => ('org' in entry ? [entry.org] : []));
    await queryRunner.query(
      'DELETE FROM contact_points WHERE national_identity_number = ANY($1) OR organization_number = ANY($2)',
      [nins, orgs],
    );
  }
}
