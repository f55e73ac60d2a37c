import { OtpConfigError } from '../core/otp.errors';

/** New-device sign-in notices (`OtpModuleOptions.signInNotices`), used by `OtpSignInNotifier`. */
export interface OtpSignInNoticeOptions {
  /**
   * How long a device (browser family, OS family and IP network) stays known to an
   * address after its last sign-in. A sign-in from a device unseen for longer counts as
   * new, and the retention purge deletes its row. One hour to 400 days.
   * @default 15552000 (180 days)
   */
  rememberDeviceSeconds?: number;
  /**
   * At most one new-device notice per address within this many seconds. A sign-in held
   * back by this limit does not make its device known, so that device's next sign-in after
   * the interval is announced. 60 seconds to one day.
   * @default 3600
   */
  intervalSeconds?: number;
}

/** Sign-in notice options after defaults and checks. */
export interface ResolvedSignInNoticeOptions {
  rememberDeviceSeconds: number;
  intervalSeconds: number;
  /** How long a notice may wait for the relay before it is pointless. */
  deadlineSeconds: number;
}

function seconds(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new OtpConfigError(`signInNotices.${name} must be an integer from ${min} to ${max}`);
  return v;
}

/** Applies the sign-in notice defaults and refuses periods out of range. */
export function resolveSignInNoticeOptions(o: OtpSignInNoticeOptions = {}): ResolvedSignInNoticeOptions {
  return {
    rememberDeviceSeconds: seconds('rememberDeviceSeconds', o.rememberDeviceSeconds, 180 * 86_400, 3600, 400 * 86_400),
    intervalSeconds: seconds('intervalSeconds', o.intervalSeconds, 3600, 60, 86_400),
    deadlineSeconds: 86_400,
  };
}
