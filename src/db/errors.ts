/** PostgreSQL SQLSTATE helpers (same codes from `pg` and PGlite). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}
/** 23503 foreign_key_violation: the row referred to is gone (e.g. a write into a tenant being deleted). */
export function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23503';
}
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300',
      '08006', '08001', '08003', '08004'].includes(code) ||
    /Connection terminated|timeout exceeded when trying to connect|encountered a connection error and is not queryable/i.test((err as Error | null)?.message ?? '')
  );
}
/** A statement cancelled by statement_timeout (57014 query_canceled). */
export function isStatementTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '57014';
}
