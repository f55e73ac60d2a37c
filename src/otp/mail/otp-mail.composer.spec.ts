import { OtpMailComposer } from './otp-mail.composer';

describe('OtpMailComposer: language tags', () => {
  it('the composer formats times even for a tag Intl refuses (defence in depth)', () => {
    const composer = Object.create(OtpMailComposer.prototype) as { formats: Map<string, Intl.DateTimeFormat>; time(d: Date, l: string, lang: string): string };
    composer.formats = new Map();
    expect(composer.time(new Date('2026-11-25T17:45:00Z'), 'de-1996-1996', 'de')).toMatch(/2026.*17:45 UTC/);
  });
});
