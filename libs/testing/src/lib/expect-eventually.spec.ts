import { expectEventually } from './expect-eventually';

describe(expectEventually.name, () => {
  it('returns as soon as the assertion passes', async () => {
    let calls = 0;
    const value = await expectEventually(
      () => {
        calls += 1;
        if (calls < 3) throw new Error('not yet');
        return 'done';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it("fails with the assertion's last error once the time is up", async () => {
    let calls = 0;
    await expect(
      expectEventually(
        () => {
          calls += 1;
          throw new Error(`attempt ${calls}`);
        },
        { timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow(new RegExp(`Not true within 30 ms: attempt \\d+$`));
    expect(calls).toBeGreaterThan(1);
  });
});
