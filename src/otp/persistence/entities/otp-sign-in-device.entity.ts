import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A device an address signed in from lately: the blind index and a keyed device digest only. */
@Entity({ name: 'otp_sign_in_devices' })
@Index('otp_sign_in_devices_last_seen_idx', ['lastSeenAt'])
export class OtpSignInDeviceEntity {
  @PrimaryColumn({ name: 'recipient_index', type: 'text' })
  recipientIndex: string;

  @PrimaryColumn({ name: 'device_digest', type: 'text' })
  deviceDigest: string;

  @Column({ name: 'last_seen_at', type: 'timestamptz', default: () => 'now()' })
  lastSeenAt: Date;
}
