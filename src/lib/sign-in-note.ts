/**
 * What a sign-in route concluded, told to the audit trail. The audit floor wraps the routes but
 * cannot see inside them, and the console floor may not import the audit floor: the route notes
 * its outcome on the request here, and the audit trail reads it while the request is still open.
 */
export type SignInNote =
  | { outcome: 'signed-in'; tenantId: string; accountId: string; login: string }
  /** `login` is the login the refused sign-in gave (null before any identity is known); `reason` a stable word. */
  | { outcome: 'refused'; tenantId: string | null; login: string | null; reason: string };

const notes = new WeakMap<object, SignInNote>();

export function noteSignIn(req: object, note: SignInNote): void {
  notes.set(req, note);
}

export const signInNote = (req: object): SignInNote | undefined => notes.get(req);
