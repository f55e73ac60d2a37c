import 'reflect-metadata';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants';
import { OtpAuditService } from '../audit/otp-audit.service';
import { OtpAuditWriter } from '../audit/otp-audit.writer';
import { OtpService } from '../challenges/otp.service';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpBudgetNotices } from '../failure-budget/otp-budget-notices';
import { OtpController } from '../http/otp.controller';
import { DevMailboxController } from '../mail/dev-mailbox.controller';
import { otpMailerServiceOptions } from '../mail/otp-mailer.factory';
import { OtpMailDispatcher } from '../mail/outbox/otp-mail.dispatcher';
import { OtpAlertEngine } from '../monitoring/otp-alert.engine';
import { OtpDependencyChecks } from '../monitoring/otp-dependency.checks';
import { OtpOutboxProbe } from '../monitoring/otp-outbox.probe';
import { OtpAdminGuard } from '../operator/otp-admin.guard';
import { OtpKeyAuditService } from '../ops/otp-key-audit.service';
import { OtpRetentionService } from '../ops/otp-retention.service';
import { OtpStartupCheck } from '../ops/otp-startup.check';
import { OtpSql } from '../persistence/otp-sql';
import { OtpSendLimiter } from '../rate-limit/otp-send-limiter';
import { otpThrottlerOptions } from '../rate-limit/otp-throttler.guard';
import { OtpSignInNotifier } from '../sign-in/otp-sign-in-notifier';
import { OtpTokenService } from '../tokens/otp-token.service';
import type { ResolvedOtpOptions } from './otp-options.interface';

type Constructor = abstract new (...args: any) => unknown;
/** Compiles only when the whole resolved object can be given where `Slice` is expected. */
type FitsResolved<Slice> = ResolvedOtpOptions extends Slice ? [] : [`ResolvedOtpOptions does not fit this slice`];

/**
 * A provider and the constructor parameter that receives `OTP_RESOLVED_OPTIONS`. A feature
 * types that parameter with only the slice it reads, in its own types; `npm run typecheck`
 * refuses the call unless the composed `ResolvedOtpOptions` fits that slice (a property it
 * lacks, or of another type, would be `undefined` or wrong at run time).
 */
function injects<C extends Constructor, I extends number>(provider: C, index: I, ..._fits: FitsResolved<ConstructorParameters<C>[I]>): string {
  return `${provider.name}[${index}]`;
}
function reads<F extends (options: never) => unknown>(factory: F, ..._fits: FitsResolved<Parameters<F>[0]>): F {
  return factory;
}

const SLICES = [
  injects(OtpAuditService, 4),
  injects(OtpAuditWriter, 2),
  injects(OtpService, 0),
  injects(OtpBudgetNotices, 0),
  injects(OtpController, 2),
  injects(DevMailboxController, 0),
  injects(OtpMailDispatcher, 0),
  injects(OtpAlertEngine, 0),
  injects(OtpDependencyChecks, 3),
  injects(OtpOutboxProbe, 1),
  injects(OtpAdminGuard, 0),
  injects(OtpKeyAuditService, 4),
  injects(OtpRetentionService, 7),
  injects(OtpStartupCheck, 1),
  injects(OtpSql, 1),
  injects(OtpSendLimiter, 0),
  injects(OtpSignInNotifier, 0),
  injects(OtpTokenService, 0),
];
reads(otpThrottlerOptions);
reads(otpMailerServiceOptions);

/** Every class of src/otp whose constructor injects OTP_RESOLVED_OPTIONS, as `Name[index]`, read from Nest's metadata. */
function injectingClasses(): string[] {
  const otpDir = join(__dirname, '..');
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
  const found = new Set<string>();
  // The bin runs the CLI when loaded; every other file only declares.
  for (const file of files(otpDir).filter((f) => relative(otpDir, f) !== join('cli', 'bin.ts'))) {
    for (const value of Object.values(require(file) as Record<string, unknown>)) {
      if (typeof value !== 'function') continue;
      const deps = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, value) ?? []) as { index: number; param: unknown }[];
      for (const dep of deps) if (dep.param === OTP_RESOLVED_OPTIONS) found.add(`${value.name}[${dep.index}]`);
    }
  }
  return [...found];
}

describe('the resolved options fit the slice every provider injects', () => {
  it('lists above (where the compiler checks it) every constructor parameter that receives OTP_RESOLVED_OPTIONS', () => {
    const injecting = injectingClasses();
    expect(injecting.length).toBeGreaterThan(10); // the metadata was really read
    expect([...injecting].sort()).toEqual([...SLICES].sort());
  });
});
