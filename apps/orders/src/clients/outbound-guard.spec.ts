import { type lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { AddressPolicy, parseAllowEntry, type AllowEntry } from '../domain/address-policy';
import { OUTBOUND_REFUSED_CODE, OutboundGuard, OutboundRefusedError } from './outbound-guard';

/** A resolver with fixed answers (DNS is the one thing a unit test cannot own). */
function resolverOf(answers: Record<string, readonly string[]>): typeof dnsLookup {
  const resolve = (
    hostname: string,
    _options: unknown,
    callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
  ) => {
    const addresses = answers[hostname] ?? [];
    process.nextTick(() =>
      callback(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      ),
    );
  };
  return resolve as unknown as typeof dnsLookup;
}

const guardOf = (entries: string[], answers: Record<string, readonly string[]>) =>
  new OutboundGuard(
    new AddressPolicy(entries.map((entry) => parseAllowEntry(entry) as AllowEntry)),
    resolverOf(answers),
  );

const answers = {
  'public.example': ['93.184.216.34'],
  'mixed.example': ['10.0.0.5', '93.184.216.34'],
  'internal.example': ['10.0.0.5'],
  'nothing.example': [],
};

describe(OutboundGuard.name, () => {
  it('resolves to the permitted addresses only, and refuses a name with none', async () => {
    const guard = guardOf([], answers);
    expect(await guard.guardedLookup('public.example')).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(await guard.guardedLookup('mixed.example')).toEqual([{ address: '93.184.216.34', family: 4 }]);
    const refused = guard.guardedLookup('internal.example');
    await expect(refused).rejects.toBeInstanceOf(OutboundRefusedError);
    await expect(refused).rejects.toMatchObject({
      code: OUTBOUND_REFUSED_CODE,
      message:
        'internal.example resolves to a private address, which is refused (not on the outbound allow-list)',
    });
    await expect(guard.guardedLookup('nothing.example')).rejects.toThrow('nothing.example has no address');
  });

  it('lets an allow-listed name or range through', async () => {
    expect(await guardOf(['internal.example'], answers).guardedLookup('internal.example')).toHaveLength(1);
    expect(await guardOf(['10.0.0.0/8'], answers).guardedLookup('mixed.example')).toHaveLength(2);
  });

  it('judges IP literals directly (net never calls a lookup for them)', () => {
    const guard = guardOf(['10.0.0.5'], answers);
    expect(guard.refusalOfAddress('10.0.0.5')).toBeUndefined();
    expect(guard.refusalOfAddress('93.184.216.34')).toBeUndefined();
    expect(guard.refusalOfAddress('169.254.169.254')?.message).toBe(
      '169.254.169.254 is a link-local address, which is refused (not on the outbound allow-list)',
    );
    expect(OutboundGuard.isAddress('127.0.0.1')).toBe(true);
    expect(OutboundGuard.isAddress('[::1]')).toBe(true);
    expect(OutboundGuard.isAddress('broker.example')).toBe(false);
  });

  it('gives sockets a lookup that answers with a permitted address and reports a refusal', async () => {
    const refusals: string[] = [];
    const lookup = guardOf([], answers).lookupFunction((refusal) => refusals.push(refusal.message));
    const one = await new Promise<string>((resolve, reject) =>
      lookup('mixed.example', {}, (error, address) => (error ? reject(error) : resolve(String(address)))),
    );
    expect(one).toBe('93.184.216.34');
    const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      lookup('internal.example', {}, (error) => resolve(error)),
    );
    expect(failure).toBeInstanceOf(OutboundRefusedError);
    expect(refusals).toEqual([failure?.message]);
  });
});
