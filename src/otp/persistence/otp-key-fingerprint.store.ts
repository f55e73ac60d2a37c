import { Injectable } from '@nestjs/common';
import { OtpSql } from './otp-sql';

export type OtpKeyRole = 'blind-index';

/** Owns `otp_key_fingerprints`: a key's fingerprint is recorded once and never changed by the app. */
@Injectable()
export class OtpKeyFingerprintStore {
  constructor(private readonly sql: OtpSql) {}

  /** Records `fingerprint` for `role` unless one is recorded; returns the one on record. */
  async recordOnce(role: OtpKeyRole, fingerprint: string): Promise<string> {
    const [row] = await this.sql.rows<{ fingerprint: string }>(
      'key_fingerprint_record',
      `WITH ins AS (
         INSERT INTO otp_key_fingerprints (role, fingerprint) VALUES ($1, $2)
         ON CONFLICT (role) DO NOTHING RETURNING fingerprint
       )
       SELECT fingerprint FROM ins UNION ALL SELECT fingerprint FROM otp_key_fingerprints WHERE role = $1`,
      [role, fingerprint],
    );
    return row.fingerprint;
  }
}
