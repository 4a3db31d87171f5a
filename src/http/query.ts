import { AppError } from '../errors/app-error';

/** A whole-number query parameter, or 400 validation_error naming it. */
export function intQuery(value: unknown, name: string, def: number, min: number, max: number): number {
  if (value === undefined || value === '') return def;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) {
    throw new AppError('validation_error', `Query parameter "${name}" must be a whole number.`);
  }
  const n = Number(value);
  if (n < min || n > max)
    throw new AppError('validation_error', `Query parameter "${name}" must be between ${min} and ${max}.`);
  return n;
}
