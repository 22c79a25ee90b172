import { type OrganizationContactPoint, type PersonContactPoint } from './contact-point.service';
import { type OrderRecipient, type RecipientLookupSummary } from './order.model';

export type DraftResult = 'New' | 'Failed_RecipientReserved' | 'Failed_RecipientNotIdentified';

/** One email notification to create for an order. */
export interface NotificationDraft {
  /** Unique within the order: the normalised address, or `nin:…` / `org:…` when there is no address. */
  readonly recipientKey: string;
  readonly toAddress?: string;
  readonly nationalIdentityNumber?: string;
  readonly organizationNumber?: string;
  readonly recipientName?: string;
  readonly isReserved?: boolean;
  readonly result: DraftResult;
}

/** What the contact-point register answered for an order's identity and organisation numbers. */
export interface Directory {
  readonly persons: ReadonlyMap<string, PersonContactPoint>;
  readonly organizations: ReadonlyMap<string, OrganizationContactPoint>;
}

/** Addresses compare case-insensitively: the same mailbox given twice gets one email. */
export function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

export function draftNotifications(
  recipients: readonly OrderRecipient[],
  directory: Directory,
  ignoreReservation: boolean,
): NotificationDraft[] {
  const drafts = new Map<string, NotificationDraft>();
  const add = (draft: NotificationDraft): void => {
    // First occurrence wins: a duplicate address (or identifier) is sent once.
    if (!drafts.has(draft.recipientKey)) drafts.set(draft.recipientKey, draft);
  };
  for (const recipient of recipients) {
    if (recipient.emailAddress !== undefined) {
      add({
        recipientKey: normaliseAddress(recipient.emailAddress),
        toAddress: recipient.emailAddress.trim(),
        result: 'New',
      });
    } else if (recipient.nationalIdentityNumber !== undefined) {
      const nin = recipient.nationalIdentityNumber;
      const person = directory.persons.get(nin);
      const name = person?.name === undefined ? {} : { recipientName: person.name };
      if (person?.isReserved === true && !ignoreReservation) {
        add({
          recipientKey: `nin:${nin}`,
          nationalIdentityNumber: nin,
          isReserved: true,
          result: 'Failed_RecipientReserved',
          ...name,
        });
      } else if (person?.email !== undefined && person.email.trim() !== '') {
        add({
          recipientKey: normaliseAddress(person.email),
          toAddress: person.email.trim(),
          nationalIdentityNumber: nin,
          isReserved: person.isReserved,
          result: 'New',
          ...name,
        });
      } else {
        add({
          recipientKey: `nin:${nin}`,
          nationalIdentityNumber: nin,
          ...(person === undefined ? {} : { isReserved: person.isReserved }),
          result: 'Failed_RecipientNotIdentified',
          ...name,
        });
      }
    } else if (recipient.organizationNumber !== undefined) {
      const orgNo = recipient.organizationNumber;
      const organization = directory.organizations.get(orgNo);
      const name = organization?.name === undefined ? {} : { recipientName: organization.name };
      const emails = (organization?.emails ?? []).filter((email) => email.trim() !== '');
      if (emails.length === 0) {
        add({
          recipientKey: `org:${orgNo}`,
          organizationNumber: orgNo,
          result: 'Failed_RecipientNotIdentified',
          ...name,
        });
      }
      for (const email of emails) {
        add({
          recipientKey: normaliseAddress(email),
          toAddress: email.trim(),
          organizationNumber: orgNo,
          result: 'New',
          ...name,
        });
      }
    }
  }
  return [...drafts.values()];
}

export function summariseLookup(
  recipients: readonly OrderRecipient[],
  directory: Directory,
  ignoreReservation: boolean,
): RecipientLookupSummary {
  const isReserved: string[] = [];
  const missingContact: string[] = [];
  let looked = 0;
  let reachable = 0;
  for (const recipient of recipients) {
    if (recipient.nationalIdentityNumber !== undefined) {
      looked += 1;
      const person = directory.persons.get(recipient.nationalIdentityNumber);
      const hasEmail = person?.email !== undefined && person.email.trim() !== '';
      if (person?.isReserved === true) isReserved.push(recipient.nationalIdentityNumber);
      if (!hasEmail) missingContact.push(recipient.nationalIdentityNumber);
      if (hasEmail && (ignoreReservation || person.isReserved !== true)) reachable += 1;
    } else if (recipient.organizationNumber !== undefined) {
      looked += 1;
      const organization = directory.organizations.get(recipient.organizationNumber);
      const hasEmail = (organization?.emails ?? []).some((email) => email.trim() !== '');
      if (hasEmail) reachable += 1;
      else missingContact.push(recipient.organizationNumber);
    }
  }
  const status = reachable === looked ? 'Success' : reachable === 0 ? 'Failed' : 'PartialSuccess';
  return { status, isReserved: unique(isReserved), missingContact: unique(missingContact) };
}
