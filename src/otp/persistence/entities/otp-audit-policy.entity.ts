import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** The DBA's floors under audit removal (one row): the app can lower neither. */
@Entity({ name: 'otp_audit_policy' })
@Check('otp_audit_policy_id_check', 'id = 1')
export class OtpAuditPolicyEntity {
  @PrimaryColumn({ type: 'smallint' })
  id: number;

  @Column({ name: 'min_retention', type: 'interval' })
  minRetention: string;

  @Column({ name: 'min_ip_window', type: 'interval' })
  minIpWindow: string;
}
