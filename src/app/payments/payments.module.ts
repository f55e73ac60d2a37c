import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts';
import { PaymentsController } from './payments.controller';
import { TransfersStore } from './transfers.store';

/** Example payments: transfers approved by an email code bound to amount, payee and user. */
@Module({
  imports: [AccountsModule],
  controllers: [PaymentsController],
  providers: [TransfersStore],
})
export class PaymentsModule {}
