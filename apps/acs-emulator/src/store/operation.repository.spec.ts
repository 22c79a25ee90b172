import { randomUUID } from 'node:crypto';
import { OperationRepository, operationStatus, type AcceptedOperation } from './operation.repository';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

const accepted = (at: number): AcceptedOperation => ({
  acceptedAt: at,
  startsAt: at + 10,
  completesAt: at + 100,
  outcome: 'Succeeded',
  messageSeq: 1,
});

describe(OperationRepository.name, () => {
  it('counts POSTs, duplicate sends and ids recorded more than once, incrementally', () => {
    const repository = new OperationRepository();
    const entry = repository.notePost(A, 0);
    repository.accept(entry, accepted(0));
    repository.notePost(A, 1);
    repository.notePost(A, 2);
    repository.notePost(B, 3);

    expect(repository.counts()).toEqual({
      operations: 1,
      distinctOperationIds: 2,
      duplicateSends: 1,
      notificationsSentMoreThanOnce: 0,
      evicted: 0,
    });
    repository.accept(entry, accepted(5));
    expect(repository.counts()).toMatchObject({ operations: 1, notificationsSentMoreThanOnce: 1 });
    expect(repository.duplicates().sentMoreThanOnce.map((e) => e.id)).toEqual([A]);
    expect(repository.duplicates().duplicateSends.map((e) => ({ id: e.id, posts: e.posts }))).toEqual([
      { id: A, posts: 3 },
    ]);
  });

  it('keeps every id and its operation through growth, exactly (no eviction, no false duplicates)', () => {
    const repository = new OperationRepository();
    const ids = Array.from({ length: 50_000 }, () => randomUUID());
    ids.forEach((id, i) => {
      const entry = repository.notePost(id, i);
      repository.accept(entry, {
        acceptedAt: i,
        startsAt: i,
        completesAt: i + 7,
        outcome: i % 2 === 0 ? 'Succeeded' : 'Failed',
        ...(i % 2 === 0 ? {} : { error: { code: 'EmailDropped', message: 'dropped' } }),
        ruleId: i % 3 === 0 ? 'rule-x' : undefined,
        messageSeq: i + 1,
      });
    });

    expect(repository.counts()).toEqual({
      operations: 50_000,
      distinctOperationIds: 50_000,
      duplicateSends: 0,
      notificationsSentMoreThanOnce: 0,
      evicted: 0,
    });
    for (const i of [0, 1, 3, 4095, 49_999]) {
      expect(repository.get(ids[i]!)).toEqual({
        id: ids[i],
        slot: i,
        firstSeenAt: i,
        posts: 1,
        messagesRecorded: 1,
        accepted: {
          acceptedAt: i,
          startsAt: i,
          completesAt: i + 7,
          outcome: i % 2 === 0 ? 'Succeeded' : 'Failed',
          ...(i % 2 === 0 ? {} : { error: { code: 'EmailDropped', message: 'dropped' } }),
          ...(i % 3 === 0 ? { ruleId: 'rule-x' } : {}),
          messageSeq: i + 1,
        },
      });
    }
    expect(repository.get(randomUUID())).toBeUndefined();
    expect(repository.statusCounts(10_000_000)).toMatchObject({ Succeeded: 25_000, Failed: 25_000 });
  });

  it('knows no operation under an id that is not a lower-case UUID, and refuses to create one', () => {
    const repository = new OperationRepository();
    repository.notePost(A, 0);

    expect(repository.get(A.toUpperCase())).toBeUndefined();
    expect(repository.get('not-a-uuid')).toBeUndefined();
    expect(() => repository.notePost('a', 0)).toThrow(TypeError);
  });

  it('accepts into the right id even when a reset came between reading the entry and accepting', () => {
    const repository = new OperationRepository();
    const stale = repository.notePost(A, 0);
    repository.clear();
    const other = repository.notePost(B, 1);
    repository.accept(stale, accepted(2));

    expect(repository.get(B)).toEqual(other);
    expect(repository.get(A)?.accepted).toMatchObject({ acceptedAt: 2 });
  });

  it('forgets everything on clear', () => {
    const repository = new OperationRepository();
    repository.notePost(A, 0);
    repository.notePost(A, 0);
    repository.clear();

    expect(repository.get(A)).toBeUndefined();
    expect(repository.counts()).toMatchObject({ distinctOperationIds: 0, duplicateSends: 0 });
    expect(repository.duplicates().duplicateSends).toEqual([]);
    expect(repository.notePost(A, 5)).toMatchObject({ id: A, posts: 1, firstSeenAt: 5 });
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
