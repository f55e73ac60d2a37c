import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** The fingerprint of a key whose change would go unnoticed, recorded by the first start. */
@Entity({ name: 'otp_key_fingerprints' })
@Check('otp_key_fingerprints_role_ck', `role IN ('blind-index')`)
export class OtpKeyFingerprintEntity {
  @PrimaryColumn({ type: 'text' })
  role: string;

  @Column({ type: 'text' })
  fingerprint: string;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt: Date;
}
