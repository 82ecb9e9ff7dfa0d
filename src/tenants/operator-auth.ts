import type { Database } from '../db/types.js';
import { digestsEqual, generateSecret, sha256Hex } from '../lib/secrets.js';

export const OPERATOR_TOKEN_PREFIX = 'idpb_admin_';

export interface OperatorAuth {
  verify(token: string): boolean;
  /** Set only on the first start without IDPBRIDGE_ADMIN_TOKEN: the secret to print once. */
  generatedToken: string | undefined;
}

/**
 * The operator token comes from IDPBRIDGE_ADMIN_TOKEN, or is generated on first start and stored
 * as SHA-256 only. Comparison is constant-time on digests.
 */
export async function loadOperatorAuth(db: Database, envToken: string | undefined): Promise<OperatorAuth> {
  let hash: string;
  let generatedToken: string | undefined;
  if (envToken) {
    hash = sha256Hex(envToken);
  } else {
    const { rows } = await db.query<{ value: { hash: string } }>(
      `SELECT value FROM system_settings WHERE key = 'operator_token'`,
    );
    if (rows[0]) {
      hash = rows[0].value.hash;
    } else {
      const token = generateSecret(OPERATOR_TOKEN_PREFIX);
      const inserted = await db.query<{ value: { hash: string } }>(
        `INSERT INTO system_settings (key, value) VALUES ('operator_token', $1::jsonb)
         ON CONFLICT (key) DO NOTHING RETURNING value`,
        [JSON.stringify({ hash: sha256Hex(token) })],
      );
      if (inserted.rowCount > 0) {
        generatedToken = token;
        hash = sha256Hex(token);
      } else {
        // Another process won the race; use its token.
        const again = await db.query<{ value: { hash: string } }>(`SELECT value FROM system_settings WHERE key = 'operator_token'`);
        hash = again.rows[0]!.value.hash;
      }
    }
  }
  return {
    verify: (token: string) => token.length > 0 && token.length <= 512 && digestsEqual(sha256Hex(token), hash),
    generatedToken,
  };
}
