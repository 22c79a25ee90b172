import { Inject, Injectable } from '@nestjs/common';
import { CONTACT_POINT_SERVICE } from '../config/tokens';
import { type ContactPointService } from '../domain/contact-point.service';
import { type OrderRecipient, type RecipientLookupSummary } from '../domain/order.model';
import {
  type Directory,
  draftNotifications,
  type NotificationDraft,
  summariseLookup,
} from '../domain/recipients';

/**
 * Turns an order's recipients into notification drafts: email addresses as given; identity and organisation
 * numbers through the contact-point register. Reserved persons fail unless the order ignores reservation;
 * recipients without an address fail as not identified; an address appears once per order.
 */
@Injectable()
export class RecipientResolver {
  constructor(@Inject(CONTACT_POINT_SERVICE) private readonly contactPoints: ContactPointService) {}

  /**
   * Drafts the notifications of some of an order's recipients (intake works a slice at a time, see PastDueService),
   * asking the register once for the identifiers among them. The drafts are unique within the call; across calls
   * the notifications' unique (order, recipient key) keeps the first, as drafting the whole order at once would.
   */
  async draft(
    recipients: readonly OrderRecipient[],
    ignoreReservation: boolean,
  ): Promise<NotificationDraft[]> {
    return draftNotifications(recipients, await this.lookup(recipients), ignoreReservation);
  }

  /** The create response's `recipientLookup`, or undefined when no recipient needed a look-up. */
  async summarise(
    recipients: readonly OrderRecipient[],
    ignoreReservation: boolean,
  ): Promise<RecipientLookupSummary | undefined> {
    if (!recipients.some((r) => r.emailAddress === undefined)) return undefined;
    const directory = await this.lookup(recipients);
    return summariseLookup(recipients, directory, ignoreReservation);
  }

  private async lookup(recipients: readonly OrderRecipient[]): Promise<Directory> {
    const ninSet = new Set<string>();
    const orgSet = new Set<string>();
    for (const recipient of recipients) {
      if (recipient.nationalIdentityNumber) ninSet.add(recipient.nationalIdentityNumber);
      if (recipient.organizationNumber) orgSet.add(recipient.organizationNumber);
    }
    const nins = [...ninSet];
    const orgs = [...orgSet];
    const [persons, organizations] = await Promise.all([
      nins.length > 0 ? this.contactPoints.lookupPersons(nins) : Promise.resolve([]),
      orgs.length > 0 ? this.contactPoints.lookupOrganizations(orgs) : Promise.resolve([]),
    ]);
    return {
      persons: new Map(persons.map((p) => [p.nationalIdentityNumber, p])),
      organizations: new Map(organizations.map((o) => [o.organizationNumber, o])),
    };
  }
}
