import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { currentAuditContext } from '../request-context/audit-context';
import { canonicalEmail } from '../crypto/canonical';
import { OtpCipher } from '../crypto/otp-cipher';
import { OtpKeyring } from '../crypto/otp-keyring';
import { sealJson } from '../crypto/sealed-json';
import { OtpEventBus } from '../events/otp-event-bus';
import { NewDeviceNoticePayload } from '../mail/outbox/otp-mail-outbox.payload';
import { OtpMailDispatcher } from '../mail/outbox/otp-mail.dispatcher';
import { safeLocale } from '../i18n/safe-locale';
import { ipNetwork } from '../net/ip-network';
import { summariseUserAgent } from '../net/user-agent-summary';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpSchemaState } from '../persistence/otp-schema.state';
import { OtpKnownDeviceStore } from './otp-known-device.store';
import type { ResolvedSignInNoticeOptions } from './sign-in-options';
import { isoTime } from '../core/iso-time';

/** A successful sign-in, as the host tells it to `OtpSignInNotifier.signedIn`. */
export interface SignedInInput {
  /** The address the account signs in with: where a notice goes. */
  email: string;
  /** Client IP as your trusted-proxy settings resolve it. @default the current request's (audit context) */
  ip?: string;
  /** The request's `User-Agent`. @default the current request's (audit context) */
  userAgent?: string;
  /** Language of the notice (`pt-BR` falls back to `pt`, then `en`). @default the mail default language */
  locale?: string;
}

/** What `signedIn` decided. */
export interface SignInNoticeOutcome {
  /**
   * `known`: the device signed in to this address within `rememberDeviceSeconds`;
   * `new`: it did not, and the address has other remembered devices;
   * `first`: the address had no remembered device (its first sign-in, or the first after
   * a long absence or after the feature was deployed): remembered, never mailed.
   */
  device: 'known' | 'new' | 'first';
  /** `queued` in the outbox; `rate_limited` by `intervalSeconds` (the device stays unknown); `none` otherwise. */
  notice: 'queued' | 'rate_limited' | 'none';
}

/**
 * New-device sign-in notices (R19). The host calls `signedIn` after every successful
 * sign-in; a sign-in from a browser (family and OS) or network (IPv4 /24, IPv6 /48)
 * the address has not used within `rememberDeviceSeconds` queues a notice through the
 * mail outbox: when (UTC), which browser, which network, what to do if it was not
 * them. Devices are remembered only as keyed digests beside the blind index; the
 * notice's recipient and facts are sealed in the outbox row like every mail.
 */
@Injectable()
export class OtpSignInNotifier {
  readonly options: ResolvedSignInNoticeOptions;

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) resolved: { signInNotices: ResolvedSignInNoticeOptions },
    private readonly keyring: OtpKeyring,
    private readonly cipher: OtpCipher,
    private readonly store: OtpKnownDeviceStore,
    private readonly dispatcher: OtpMailDispatcher,
    private readonly events: OtpEventBus,
    private readonly schema: OtpSchemaState,
  ) {
    this.options = resolved.signInNotices;
  }

  /**
   * Records a successful sign-in of `email` and queues a notice when it comes from a
   * new device. Call it once the session exists, never for a failed attempt. Throws
   * only when the database does, or `OtpUnavailableError` (503) while migrations are pending.
   */
  async signedIn(input: SignedInInput): Promise<SignInNoticeOutcome> {
    if (typeof input.email !== 'string' || !input.email.includes('@')) throw new TypeError('signedIn: email must be an address');
    this.schema.assertReady();
    const request = currentAuditContext();
    const ip = input.ip ?? request?.ip;
    const userAgent = input.userAgent ?? request?.userAgent;
    const to = canonicalEmail(input.email);
    const recipientIndex = this.keyring.blindIndex(to);
    const browser = summariseUserAgent(userAgent);
    const network = ipNetwork(ip);
    const id = randomUUID();
    const payload: NewDeviceNoticePayload = {
      kind: 'new-device-notice',
      to,
      locale: safeLocale(input.locale),
      browser,
      network,
      happenedAt: isoTime(new Date()),
    };
    const out = await this.store.recordSignIn({
      recipientIndex,
      deviceDigest: this.keyring.deviceDigest(recipientIndex, [browser ?? '', network ?? '']),
      notice: { id, payloadCiphertext: sealJson(this.cipher, payload, id), deadlineSeconds: this.options.deadlineSeconds },
      rememberSeconds: this.options.rememberDeviceSeconds,
      intervalSeconds: this.options.intervalSeconds,
    });
    const outcome: SignInNoticeOutcome = {
      device: out.known ? 'known' : out.remembered === 0 ? 'first' : 'new',
      notice: out.queued ? 'queued' : out.known || out.remembered === 0 ? 'none' : 'rate_limited',
    };
    if (out.queued) this.dispatcher.mailWritten();
    this.events.emit({ name: 'sign_in.recorded', outcome: 'success', recipientIndex, ip, userAgent, detail: { ...outcome } });
    if (outcome.device === 'new') {
      this.events.emit({
        name: 'notice.queued', outcome: out.queued ? 'success' : 'failure', purpose: 'sign-in', recipientIndex,
        detail: { kind: 'new-device-notice', reason: out.queued ? null : 'rate_limited' },
      });
    }
    return outcome;
  }
}
