import { DependencyUnavailableError } from './dependency-unavailable.error';

/** What the register knows about a person (Altinn Profile `users/contactpoint/lookup`). */
export interface PersonContactPoint {
  readonly nationalIdentityNumber: string;
  readonly email?: string;
  /** Reserved against digital contact: no notification unless the order ignores reservation. */
  readonly isReserved: boolean;
  readonly name?: string;
}

/** An organisation's notification addresses (Altinn Profile `organizations/notificationaddresses/lookup`). */
export interface OrganizationContactPoint {
  readonly organizationNumber: string;
  readonly emails: readonly string[];
  readonly name?: string;
}

/**
 * Resolves national identity numbers and organisation numbers to email addresses. Identifiers the register does
 * not know are simply absent from the result. Throws ContactPointUnavailableError when the register cannot
 * answer (a transient failure: the order is retried).
 */
export interface ContactPointService {
  lookupPersons(nationalIdentityNumbers: readonly string[]): Promise<PersonContactPoint[]>;
  lookupOrganizations(organizationNumbers: readonly string[]): Promise<OrganizationContactPoint[]>;
}

export class ContactPointUnavailableError extends DependencyUnavailableError {
  override readonly name = 'ContactPointUnavailableError';

  constructor(message: string, options?: ErrorOptions) {
    super('contact-point register', message, options);
  }
}
