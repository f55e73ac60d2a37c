/** Settings of the operator console, from the environment (docs/pages.md, "Operator console"). */
export interface ConsoleSettings {
  /** `OTP_ADMIN_TOKEN`: without it the console does not exist (404). */
  adminToken?: string;
  /** `Secure` on the session cookie: everywhere but development. @default NODE_ENV === 'production' */
  secureCookie: boolean;
  /** Lifetime of a console session, from sign-in (not renewed by use). @default 1800 (30 min) */
  sessionSeconds: number;
}

export const CONSOLE_SETTINGS = Symbol('CONSOLE_SETTINGS');

export function consoleSettingsFromEnv(env: NodeJS.ProcessEnv): ConsoleSettings {
  return {
    adminToken: env.OTP_ADMIN_TOKEN || undefined,
    secureCookie: env.NODE_ENV === 'production',
    sessionSeconds: 1800,
  };
}
