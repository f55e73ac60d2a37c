import { Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { IssueChallengeDto } from '../http/otp.dto';
import { OTP_RESOLVED_OPTIONS } from '../otp.module-definition';
import { ResolvedOtpOptions } from '../otp-options.interface';
import { contextProblem, declaredPurpose } from '../otp-options.resolver';
import { OtpService } from '../otp.service';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';
import { OtpSchemaState } from '../persistence/otp-schema.state';

/** Whose mailbox a request concerns, as the throttlers count it. */
export interface OtpRateLimitSubject {
  /** Keyed blind index of the canonical address: the same for every spelling, and no address in Redis. */
  recipientIndex: string;
  purpose: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Finds the recipient a request is about, before validation has run (guards
 * run before pipes). Anything that will be refused with 400 gives `undefined`:
 * it sends nothing, so it must not spend a recipient's or the global budget,
 * and a malformed body can never make the tracker throw.
 */
@Injectable()
export class OtpRateLimitSubjects {
  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: ResolvedOtpOptions,
    private readonly otp: OtpService,
    private readonly store: OtpChallengeStore,
    private readonly schema: OtpSchemaState,
  ) {}

  /** From an issue body: the same validation the route's pipe applies, then the declared purpose. */
  fromIssueBody(body: unknown): OtpRateLimitSubject | undefined {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    const dto = plainToInstance(IssueChallengeDto, body);
    const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    if (errors.length > 0) return undefined;
    const purpose = dto.purpose ?? 'login';
    const rules = declaredPurpose(this.options, purpose);
    if (!rules || (rules.requiresContext && !dto.context)) return undefined;
    if (dto.context && contextProblem(rules, dto.context)) return undefined;
    return { recipientIndex: this.otp.recipientIndex(dto.email), purpose };
  }

  /**
   * From a challenge id (resend and verify carry no address): one primary-key
   * lookup. Unknown or malformed ids give `undefined`.
   */
  async fromChallenge(id: unknown): Promise<OtpRateLimitSubject | undefined> {
    if (typeof id !== 'string' || !UUID.test(id)) return undefined;
    this.schema.assertReady();
    const row = await this.store.findRateLimitSubject(id.toLowerCase());
    return row ?? undefined;
  }
}
