import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface TransferRow {
  id: string;
  amount: number;
  to: string;
  createdAt: Date;
}

function toTransfer(r: Record<string, unknown>): TransferRow {
  return { id: String(r.id), amount: Number(r.amount), to: String(r.payee), createdAt: new Date(r.created_at as string) };
}

/** Queries on transfers; one statement per method. */
@Injectable()
export class TransfersStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Records a transfer; the unique approval id makes a second use of one approval fail. */
  async insert(row: { id: string; accountId: string; amount: number; to: string; otpChallengeId: string }): Promise<TransferRow> {
    const [out] = await this.db.query(
      `INSERT INTO transfers (id, account_id, amount, payee, otp_challenge_id) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, amount, payee, created_at`,
      [row.id, row.accountId, row.amount, row.to, row.otpChallengeId],
    );
    return toTransfer(out);
  }

  async listForAccount(accountId: string, limit = 50): Promise<TransferRow[]> {
    const rows = await this.db.query(
      `SELECT id, amount, payee, created_at FROM transfers WHERE account_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [accountId, limit],
    );
    return rows.map(toTransfer);
  }
}
