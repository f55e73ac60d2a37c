import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { resolveSignInNoticeOptions } from '../sign-in/sign-in-options';
import { resolveRetentionOptions } from './ops-options';
import { OtpAuditStore } from '../audit/otp-audit.store';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpMailOutboxStore } from '../mail/outbox/otp-mail-outbox.store';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';
import { OtpFailureBudgetStore } from '../persistence/otp-failure-budget.store';
import { OtpKnownDeviceStore } from '../sign-in/otp-known-device.store';
import { OtpOpsStore } from './otp-ops.store';
import { OtpRetentionService } from './otp-retention.service';

/** `@nestjs/schedule` is an optional peer: the purge is scheduled through it when the host has it. */
describe('retention schedule and the optional @nestjs/schedule peer', () => {
  const stubs = [OtpOpsStore, OtpChallengeStore, OtpFailureBudgetStore, OtpAuditStore, OtpMailOutboxStore, OtpKnownDeviceStore, OtpEventBus].map((provide) => ({ provide, useValue: {} }));
  const options = [{ provide: OTP_RESOLVED_OPTIONS, useValue: { retention: resolveRetentionOptions(), signInNotices: resolveSignInNoticeOptions() } }];
  const boot = (imports: never[] = []) =>
    Test.createTestingModule({ imports, providers: [OtpRetentionService, ...stubs, ...options] }).setLogger(false as never).compile();

  it('with ScheduleModule.forRoot() in the host, the purge is registered as an interval', async () => {
    const ref = await boot([ScheduleModule.forRoot() as never]);
    ref.get(OtpRetentionService).onApplicationBootstrap();
    expect(ref.get(SchedulerRegistry).getIntervals()).toContain('otp-retention-purge');
    await ref.close();
  });

  it('without it, a start-up warning names the package @nestjs/schedule', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const ref = await boot();
    ref.get(OtpRetentionService).onApplicationBootstrap();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('ScheduleModule.forRoot() (package @nestjs/schedule)'));
    warn.mockRestore();
    await ref.close();
  });
});
