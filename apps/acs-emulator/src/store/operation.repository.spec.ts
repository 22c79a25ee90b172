import { OperationRepository, operationStatus, type AcceptedOperation } from './operation.repository';

const accepted = (at: number): AcceptedOperation => ({
  acceptedAt: at,
  startsAt: at + 10,
  completesAt: at + 100,
  outcome: 'Succeeded',
  messageSeq: 1,
});

describe(OperationRepository.name, () => {
  it('counts POSTs, duplicate sends and ids recorded more than once, incrementally', () => {
    const repository = new OperationRepository(10);
    const entry = repository.notePost('a', 0);
    repository.accept(entry, accepted(0));
    repository.notePost('a', 1);
    repository.notePost('a', 2);
    repository.notePost('b', 3);

    expect(repository.counts()).toEqual({
      operations: 1,
      distinctOperationIds: 2,
      duplicateSends: 1,
      notificationsSentMoreThanOnce: 0,
      evicted: 0,
    });
    repository.accept(entry, accepted(5));
    expect(repository.counts()).toMatchObject({ operations: 1, notificationsSentMoreThanOnce: 1 });
    expect(repository.duplicates().sentMoreThanOnce.map((e) => e.id)).toEqual(['a']);
  });

  it('evicts the oldest entries beyond its capacity', () => {
    const repository = new OperationRepository(2);
    for (const id of ['a', 'b', 'c']) repository.notePost(id, 0);

    expect(repository.get('a')).toBeUndefined();
    expect(repository.get('c')).toBeDefined();
    expect(repository.counts().evicted).toBe(1);
  });

  it('derives the status from the clock', () => {
    const operation = accepted(0);
    expect([0, 10, 99, 100].map((now) => operationStatus(operation, now))).toEqual([
      'NotStarted',
      'Running',
      'Running',
      'Succeeded',
    ]);
  });
});
