import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { OTP_ENTITIES } from 'nestjs-email-otp';
import { dataSourceOptions } from './database.options';

/** Data source of the TypeORM CLI (`npm run migration:*`); reads `DATABASE_URL`. */
export default new DataSource({ ...dataSourceOptions(), entities: OTP_ENTITIES, migrationsRun: false });
