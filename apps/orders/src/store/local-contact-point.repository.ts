import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { errorMessage } from '../domain/dependency-unavailable.error';
import { queryRows } from './sql';
import {
  ContactPointUnavailableError,
  type ContactPointService,
  type OrganizationContactPoint,
  type PersonContactPoint,
} from '../domain/contact-point.service';

interface PersonRow {
  national_identity_number: string;
  name: string | null;
  email: string | null;
  is_reserved: boolean;
}

interface OrganizationRow {
  organization_number: string;
  name: string | null;
  email: string | null;
}

/** ContactPointService over the local `contact_points` table (embedded default and tests). */
@Injectable()
export class LocalContactPointRepository implements ContactPointService {
  constructor(private readonly dataSource: DataSource) {}

  async lookupPersons(nationalIdentityNumbers: readonly string[]): Promise<PersonContactPoint[]> {
    if (nationalIdentityNumbers.length === 0) return [];
    const rows = await this.query<PersonRow>(
      `SELECT DISTINCT ON (national_identity_number) national_identity_number, name, email, is_reserved
         FROM contact_points WHERE national_identity_number = ANY($1::text[])
        ORDER BY national_identity_number, id`,
      [nationalIdentityNumbers],
    );
    return rows.map((row) => ({
      nationalIdentityNumber: row.national_identity_number,
      isReserved: row.is_reserved,
      ...(row.email === null ? {} : { email: row.email }),
      ...(row.name === null ? {} : { name: row.name }),
    }));
  }

  async lookupOrganizations(organizationNumbers: readonly string[]): Promise<OrganizationContactPoint[]> {
    if (organizationNumbers.length === 0) return [];
    const rows = await this.query<OrganizationRow>(
      `SELECT organization_number, name, email FROM contact_points
        WHERE organization_number = ANY($1::text[]) ORDER BY organization_number, id`,
      [organizationNumbers],
    );
    const byNumber = new Map<string, { emails: string[]; name?: string }>();
    for (const row of rows) {
      const entry = byNumber.get(row.organization_number) ?? { emails: [] };
      if (row.email !== null) entry.emails.push(row.email);
      if (entry.name === undefined && row.name !== null) entry.name = row.name;
      byNumber.set(row.organization_number, entry);
    }
    return [...byNumber].map(([organizationNumber, entry]) => ({ organizationNumber, ...entry }));
  }

  private async query<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    try {
      return await queryRows<T>(this.dataSource.manager, sql, parameters);
    } catch (error) {
      throw new ContactPointUnavailableError(errorMessage(error), { cause: error });
    }
  }
}
