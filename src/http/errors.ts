/** Admin API error: `{ statusCode, code, error, message }`, the same shape fastify uses. */
export class AdminError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export const notFound = (what: string) => new AdminError(404, 'ERR_NOT_FOUND', `${what} not found`);
export const conflict = (message: string) => new AdminError(409, 'ERR_CONFLICT', message);
export const badRequest = (message: string) => new AdminError(400, 'ERR_BAD_REQUEST', message);
