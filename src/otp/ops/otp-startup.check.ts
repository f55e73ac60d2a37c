import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OtpKeyring, ResolvedOtpKeys } from '../crypto/otp-keyring';
import { OtpConfigError } from '../core/otp.errors';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpKeyFingerprintStore } from '../persistence/otp-key-fingerprint.store';
import { OtpSchemaState, pendingOtpMigrations } from '../persistence/otp-schema.state';

/**
 * Checks at start, before anything reads or writes OTP tables:
 * - the schema: every migration of the module has run. Production refuses to start;
 *   development logs one line and serves 503 (`OtpSchemaState`).
 * - the blind index key: its fingerprint matches the one recorded by the first start
 *   (recorded now if none is). A different key is refused in every mode: it would
 *   silently reset every address's failure budget and allow a second live challenge.
 */
@Injectable()
export class OtpStartupCheck implements OnModuleInit {
  private readonly logger = new Logger('OtpModule');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: Pick<ResolvedOtpKeys, 'keys' | 'indexKey' | 'ephemeralKeys'> & { migrationsTableName: string; production: boolean },
    private readonly keyring: OtpKeyring,
    private readonly fingerprints: OtpKeyFingerprintStore,
    private readonly schema: OtpSchemaState,
  ) {}

  async onModuleInit(): Promise<void> {
    const pending = await pendingOtpMigrations(this.db, this.options.migrationsTableName);
    if (pending.length > 0) {
      const line = `database schema out of date: ${pending.length} pending migration(s) ${pending.join(', ')}; run "npm run migration:run" (or start with DATABASE_MIGRATE=true)`;
      if (this.options.production) throw new OtpConfigError(line);
      this.schema.markOutOfDate(pending);
      this.logger.error(`${line}, then restart. Until then the OTP routes answer 503.`);
      return;
    }
    await this.checkIndexKey();
  }

  private async checkIndexKey(): Promise<void> {
    // An ephemeral index key (no OTP_KEYS, no OTP_INDEX_KEY, development only) is never recorded.
    if (!this.options.indexKey && this.options.ephemeralKeys && this.options.keys[0]?.id === 'ephemeral') return;
    const mine = this.keyring.indexKeyFingerprint;
    const recorded = await this.fingerprints.recordOnce('blind-index', mine);
    if (recorded !== mine) {
      throw new OtpConfigError(
        'the blind index key differs from the one this database was used with (OTP_INDEX_KEY, or the first OTP_KEYS key when it is unset): '
        + 'set OTP_INDEX_KEY to the previous key (the base64 part of the old first OTP_KEYS line) and start again; see docs/operations.md, "Key rotation"',
      );
    }
  }
}
