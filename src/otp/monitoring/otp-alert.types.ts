/** Names of the built-in alert rules. */
export type OtpAlertRule = 'ip_many_recipients' | 'verify_failure_spike' | 'budget_spent' | 'mail_failures' | 'outbox_backlog'
  | 'operator_auth_failures'
  | 'global_send_near' | 'rate_limit_store_full';

/** One alert, as every sink receives it. Pseudonymous: a blind index, never an address. */
export interface OtpAlert {
  alert: OtpAlertRule | (string & {});
  severity: 'warning' | 'critical';
  /** ISO 8601 UTC. */
  at: string;
  summary: string;
  count: number;
  threshold: number;
  windowSeconds: number;
  ip?: string;
  recipientIndex?: string;
}

/** Where alerts go: implement it for a pager, chat or SIEM and pass it in `monitoring.alerts.sinks`. */
export interface OtpAlertSink {
  send(alert: OtpAlert): void | Promise<void>;
}
