import type { Transporter } from 'nodemailer';
import type { Database } from '../db/types.js';
import { backoffDelay, type RetryPolicy } from './delivery.js';

export interface Mailer {
  send(msg: { from: string; to: string; subject: string; text: string; messageId: string }): Promise<void>;
  close(): void;
}

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

/**
 * SMTP through nodemailer when SMTP_URL is set; otherwise nodemailer's JSON transport, written to the log.
 * nodemailer loads with the first e-mail: most servers never send one (issue 21: the mail, SAML and
 * certificate libraries cost an idle server ~10 MB of RSS).
 */
export function createMailer(smtpUrl: string | undefined, log: Log): Mailer {
  let transport: Promise<Transporter> | undefined;
  const open = () => (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
    smtpUrl ? nodemailer.createTransport(smtpUrl) : nodemailer.createTransport({ jsonTransport: true })));
  return {
    async send(msg) {
      const info = await (await open()).sendMail(msg);
      if (!smtpUrl) log.info({ mail: JSON.parse(String((info as { message: unknown }).message)) }, 'invitation e-mail (no SMTP_URL configured: written to the log)');
    },
    // A transport still being created closes once it is.
    close: () => void transport?.then((t) => t.close(), () => {}),
  };
}

export interface InvitationOptions {
  owner: string;
  leaseMs: number;
  from: string;
  /** Activation link template: {tenantId}, {userId}, {email} are substituted (URL-encoded). */
  urlTemplate: string | undefined;
  retry: RetryPolicy;
  batch: number;
  log: Log;
}

interface InvitationRow {
  tenant_id: string;
  user_id: string;
  email: string;
  display_name: string | null;
  message_id: string;
  attempts: number;
  created_at: Date;
  tenant_name: string | null;
}

export function renderInvitation(r: Pick<InvitationRow, 'tenant_id' | 'user_id' | 'email' | 'display_name' | 'tenant_name'>, urlTemplate: string | undefined) {
  const org = r.tenant_name ?? 'your organisation';
  const url = urlTemplate
    ?.replaceAll('{tenantId}', encodeURIComponent(r.tenant_id))
    .replaceAll('{userId}', encodeURIComponent(r.user_id))
    .replaceAll('{email}', encodeURIComponent(r.email));
  const text = [
    `Hello ${r.display_name ?? r.email},`,
    '',
    `${org} has created an account for you (${r.email}).`,
    url ? `Activate it here: ${url}` : 'Sign in with your organisation account to activate it.',
    '',
  ].join('\n');
  return { subject: `Your ${org} account is ready`, text };
}

/**
 * Sends due invitations. A row is claimed (state 'sending', leased) and committed before the
 * SMTP hand-off, marked 'sent' right after: a crash before the claim sends later, a crash after
 * 'sent' never resends; only a crash inside the hand-off itself (milliseconds) resends once the
 * lease expires, with the same Message-ID so mail clients can collapse it.
 */
export async function sendInvitationsRound(db: Database, mailer: Mailer, opts: InvitationOptions): Promise<number> {
  const { rows } = await db.query<InvitationRow>(
    `UPDATE invitations i SET state = 'sending', lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond', attempts = attempts + 1
       FROM (SELECT c.tenant_id, c.user_id FROM invitations c
              WHERE (c.state = 'pending' AND c.next_attempt_at <= now()) OR (c.state = 'sending' AND c.lease_until < now())
              ORDER BY c.next_attempt_at LIMIT $3 FOR UPDATE OF c SKIP LOCKED) claimed
      WHERE i.tenant_id = claimed.tenant_id AND i.user_id = claimed.user_id
      RETURNING i.tenant_id, i.user_id, i.email, i.display_name, i.message_id, i.attempts, i.created_at,
                (SELECT t.name FROM tenants t WHERE t.tenant_id = i.tenant_id) AS tenant_name`,
    [opts.owner, opts.leaseMs, opts.batch],
  );
  let sent = 0;
  for (const r of rows) {
    const key = [r.tenant_id, r.user_id, opts.owner];
    const user = await db.query<{ active: boolean }>('SELECT active FROM scim_users WHERE tenant_id = $1 AND id = $2', [r.tenant_id, r.user_id]);
    if (!user.rows[0]?.active) {
      await db.query(`UPDATE invitations SET state = 'cancelled', lease_owner = NULL WHERE tenant_id = $1 AND user_id = $2 AND lease_owner = $3`, key);
      continue;
    }
    const { subject, text } = renderInvitation(r, opts.urlTemplate);
    try {
      await mailer.send({ from: opts.from, to: r.email, subject, text, messageId: r.message_id });
      await db.query(
        `UPDATE invitations SET state = 'sent', sent_at = now(), lease_owner = NULL, last_error = NULL
          WHERE tenant_id = $1 AND user_id = $2 AND lease_owner = $3`,
        key,
      );
      sent++;
    } catch (err) {
      const delay = backoffDelay(r.attempts, opts.retry);
      const msg = (err as Error).message?.slice(0, 500) ?? 'send failed';
      await db.query(
        `UPDATE invitations SET lease_owner = NULL, last_error = $4, next_attempt_at = now() + $5 * interval '1 millisecond',
                state = CASE WHEN now() - created_at >= $6 * interval '1 millisecond' THEN 'failed' ELSE 'pending' END
          WHERE tenant_id = $1 AND user_id = $2 AND lease_owner = $3`,
        [...key, msg, delay, opts.retry.windowMs],
      );
      opts.log.warn({ tenantId: r.tenant_id, userId: r.user_id, attempt: r.attempts, err: msg }, 'invitation e-mail failed; retry scheduled');
    }
  }
  return sent;
}
