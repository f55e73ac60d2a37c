import { OtpConfigError } from '../core/otp.errors';
import { resolveOtpOptions } from '../options/otp-options.resolver';
import { OtpPurposeOptions } from '../core/purpose-options';

const boot = (transfer: OtpPurposeOptions) =>
  resolveOtpOptions({ keys: [], encryptionKeys: [], production: false, purposes: { transfer } }, { warn: () => undefined } as never);

describe('purposes: who issues them and what their mails show', () => {
  it("R36: a purpose bound to a context is issued only by the host unless it says 'public'", () => {
    expect(boot({ requiresContext: true }).purposes.transfer.issue).toBe('host');
    expect(boot({}).purposes.transfer.issue).toBe('public');
    expect(boot({ requiresContext: true, issue: 'public' }).purposes.transfer.issue).toBe('public');
    expect(boot({ issue: 'host' }).purposes.transfer.issue).toBe('host');
  });

  it.each<[string, OtpPurposeOptions, RegExp]>([
    ['an unknown issue mode', { issue: 'anyone' as never }, /purposes\.transfer\.issue must be 'public' or 'host'/],
    ['an unknown type', { display: { to: { type: 'phone' } as never } }, /purposes\.transfer\.display\.to\.type must be 'amount' or 'identifier'/],
    ['a currency that is not ISO 4217', { display: { amount: { type: 'amount', currency: 'EUROS' } } }, /display\.amount\.currency must be an ISO 4217 code/],
    ['an identifier without a pattern', { display: { to: { type: 'identifier', pattern: '^[a-z]+$' as never } } }, /display\.to\.pattern must be a regular expression/],
    ['a field outside contextFields', { contextFields: { amount: 'number' }, display: { to: { type: 'identifier', pattern: /[a-z]+/ } } }, /"to" is not one of the purpose's contextFields/],
    ['an amount on a string field', { contextFields: { amount: 'string' }, display: { amount: { type: 'amount', currency: 'EUR' } } }, /an amount must be a number field/],
    ['a label with a phone number', { display: { to: { type: 'identifier', pattern: /[a-z]+/, label: 'Call 0800 555 0100' } } }, /display\.to\.label must be/],
    ['a label with a link', { display: { to: { type: 'identifier', pattern: /[a-z]+/, label: { en: 'see https://evil.test' } } } }, /display\.to\.label\.en must be/],
    ['a declaration that is not an object', { display: { to: 'identifier' as never } }, /display\.to must be/],
  ])('refuses %s at start-up with one clear error', (_name, purpose, message) => {
    expect(() => boot(purpose)).toThrow(OtpConfigError);
    expect(() => boot(purpose)).toThrow(message);
  });

  it('R36: an identifier pattern always matches the whole value, whatever its anchors and flags', () => {
    const display = boot({ display: { to: { type: 'identifier', pattern: /alice|bob/gy } } }).purposes.transfer.display.to;
    if (display.type !== 'identifier') throw new Error('expected an identifier');
    expect(display.pattern.test('alice')).toBe(true);
    expect(display.pattern.test('alice')).toBe(true); // no lastIndex carried over
    expect(display.pattern.test('alice call 0800')).toBe(false);
    expect(display.pattern.test('call bob')).toBe(false);
  });
});
