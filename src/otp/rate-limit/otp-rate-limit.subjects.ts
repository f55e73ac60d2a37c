import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { MAX_BODY_DEPTH } from '../http/body-depth.pipe';
import { bodyProblem } from '../http/body-shape';
import { IssueChallengeDto } from '../http/otp.dto';
import { OTP_RESOLVED_OPTIONS } from '../otp.module-definition';
import { ResolvedOtpOptions } from '../otp-options.interface';
import { contextProblem, publicPurpose } from '../otp-options.resolver';
import { OtpService } from '../otp.service';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';

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
 * it sends nothing, so it must not spend a recipient's or the global budget.
 * A body the validators cannot even read (too deep, an own `constructor` key,
 * a lone surrogate, or anything else that throws) is refused here with 400:
 * never a 500, and never let through uncounted.
 */
@Injectable()
export class OtpRateLimitSubjects {
  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: ResolvedOtpOptions,
    private readonly otp: OtpService,
    private readonly store: OtpChallengeStore,
  ) {}

  /** From an issue body: the same validation the route's pipe applies, then the purpose, if the public route may issue it. */
  fromIssueBody(body: unknown): OtpRateLimitSubject | undefined {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    const problem = bodyProblem(body, MAX_BODY_DEPTH);
    if (problem) throw problem;
    try {
      const dto = plainToInstance(IssueChallengeDto, body);
      const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
      if (errors.length > 0) return undefined;
      const purpose = dto.purpose ?? 'login';
      // Host purposes are refused on this route like undeclared ones: they spend no recipient or global budget.
      const rules = publicPurpose(this.options, purpose);
      if (!rules || (rules.requiresContext && !dto.context)) return undefined;
      if (dto.context && contextProblem(rules, dto.context)) return undefined;
      return { recipientIndex: this.otp.recipientIndex(dto.email), purpose };
    } catch {
      throw new BadRequestException({ error: 'validation_failed', message: 'The request is not valid.' });
    }
  }

  /**
   * From a challenge id (resend and verify carry no address): one primary-key
   * lookup. Unknown or malformed ids give `undefined`.
   */
  async fromChallenge(id: unknown): Promise<OtpRateLimitSubject | undefined> {
    if (typeof id !== 'string' || !UUID.test(id)) return undefined;
    const row = await this.store.findRateLimitSubject(id.toLowerCase());
    return row ?? undefined;
  }
}
