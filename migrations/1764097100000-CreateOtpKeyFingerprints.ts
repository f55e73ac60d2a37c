import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fingerprints of the keys whose change would go unnoticed (issue 9).
 *
 * - `otp_key_fingerprints`: one row per key role, today only `blind-index`: an HMAC of a
 *   fixed label under the blind index key, recorded by the first start and compared by
 *   every later one, which refuses to start when the configured key gives another (a
 *   changed index resets every address's failure budget, allows a second live challenge
 *   per address and strands older tokens). Never the key, never a plain hash of it.
 */
export class CreateOtpKeyFingerprints1764097100000 implements MigrationInterface {
  name = 'CreateOtpKeyFingerprints1764097100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE otp_key_fingerprints (
        role text PRIMARY KEY CONSTRAINT otp_key_fingerprints_role_ck CHECK (role IN ('blind-index')),
        fingerprint text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE otp_key_fingerprints`);
  }
}
