import { draftNotifications, summariseLookup } from './recipients';

const directory = {
  persons: new Map([
    [
      '01017012345',
      { nationalIdentityNumber: '01017012345', email: 'Ola@Example.com', isReserved: false, name: 'Ola' },
    ],
    [
      '02028012345',
      { nationalIdentityNumber: '02028012345', email: 'kari@example.com', isReserved: true, name: 'Kari' },
    ],
    ['03039012345', { nationalIdentityNumber: '03039012345', isReserved: false }],
  ]),
  organizations: new Map([
    [
      '910000001',
      {
        organizationNumber: '910000001',
        emails: ['post@org.example', 'POST@org.example ', 'varsel@org.example'],
        name: 'Org',
      },
    ],
    ['910000002', { organizationNumber: '910000002', emails: [] }],
  ]),
};

describe(draftNotifications.name, () => {
  it('resolves identifiers, fails reserved and unidentified recipients, and sends each address once', () => {
    const drafts = draftNotifications(
      [
        { emailAddress: 'ola@example.com' },
        { nationalIdentityNumber: '01017012345' },
        { nationalIdentityNumber: '02028012345' },
        { nationalIdentityNumber: '03039012345' },
        { nationalIdentityNumber: '09099912345' },
        { organizationNumber: '910000001' },
        { organizationNumber: '910000002' },
      ],
      directory,
      false,
    );
    expect(drafts).toEqual([
      { recipientKey: 'ola@example.com', toAddress: 'ola@example.com', result: 'New' },
      {
        recipientKey: 'nin:02028012345',
        nationalIdentityNumber: '02028012345',
        isReserved: true,
        result: 'Failed_RecipientReserved',
        recipientName: 'Kari',
      },
      {
        recipientKey: 'nin:03039012345',
        nationalIdentityNumber: '03039012345',
        isReserved: false,
        result: 'Failed_RecipientNotIdentified',
      },
      {
        recipientKey: 'nin:09099912345',
        nationalIdentityNumber: '09099912345',
        result: 'Failed_RecipientNotIdentified',
      },
      {
        recipientKey: 'post@org.example',
        toAddress: 'post@org.example',
        organizationNumber: '910000001',
        result: 'New',
        recipientName: 'Org',
      },
      {
        recipientKey: 'varsel@org.example',
        toAddress: 'varsel@org.example',
        organizationNumber: '910000001',
        result: 'New',
        recipientName: 'Org',
      },
      {
        recipientKey: 'org:910000002',
        organizationNumber: '910000002',
        result: 'Failed_RecipientNotIdentified',
      },
    ]);
  });

  it('sends to reserved persons when the order ignores reservation', () => {
    expect(draftNotifications([{ nationalIdentityNumber: '02028012345' }], directory, true)).toEqual([
      {
        recipientKey: 'kari@example.com',
        toAddress: 'kari@example.com',
        nationalIdentityNumber: '02028012345',
        isReserved: true,
        result: 'New',
        recipientName: 'Kari',
      },
    ]);
  });
});

describe(summariseLookup.name, () => {
  it('reports reserved and missing contacts', () => {
    expect(
      summariseLookup(
        [
          { nationalIdentityNumber: '01017012345' },
          { nationalIdentityNumber: '02028012345' },
          { organizationNumber: '910000002' },
        ],
        directory,
        false,
      ),
    ).toEqual({ status: 'PartialSuccess', isReserved: ['02028012345'], missingContact: ['910000002'] });
    expect(summariseLookup([{ nationalIdentityNumber: '01017012345' }], directory, false).status).toBe(
      'Success',
    );
    expect(summariseLookup([{ organizationNumber: '910000002' }], directory, false).status).toBe('Failed');
  });
});
