import { ClaimSpacing } from './claim-spacing';

describe('ClaimSpacing', () => {
  let clock = 0;
  const settled = async (p: Promise<void> | undefined) => {
    let done = false;
    void p?.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(0);
    return done;
  };

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 1_000;
  });
  afterEach(() => jest.useRealTimers());

  it('lets the first claim go at once, and one after a quiet spell', () => {
    const spacing = new ClaimSpacing(50, () => clock);
    expect(spacing.wait()).toBeUndefined();
    spacing.started();
    clock += 50;
    expect(spacing.wait()).toBeUndefined();
  });

  it('holds a claim woken within the interval until the interval has passed since the last one began', async () => {
    const spacing = new ClaimSpacing(50, () => clock);
    spacing.started();
    clock += 20;
    const wait = spacing.wait();
    expect(wait).toBeDefined();
    await jest.advanceTimersByTimeAsync(29);
    expect(await settled(wait)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await settled(wait)).toBe(true);
  });

  it('cancel lets a waiting claim go at once', async () => {
    const spacing = new ClaimSpacing(1_000, () => clock);
    spacing.started();
    const wait = spacing.wait();
    spacing.cancel();
    expect(await settled(wait)).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a second wait while one is pending gets the same promise (one waiter at a time)', async () => {
    const spacing = new ClaimSpacing(50, () => clock);
    spacing.started();
    const first = spacing.wait();
    expect(spacing.wait()).toBe(first);
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(50);
    expect(await settled(first)).toBe(true);
  });

  it('an interval of 0 never holds a claim', () => {
    const spacing = new ClaimSpacing(0, () => clock);
    spacing.started();
    expect(spacing.wait()).toBeUndefined();
  });
});
