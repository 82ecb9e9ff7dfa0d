/** An Entra-shaped SCIM User (core + enterprise extension), as POSTed by the IdP. */
export function userBody(userName: string, n = 0): string {
  const [local] = userName.split('@');
  return JSON.stringify({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    externalId: `ext-${userName}`,
    userName,
    active: true,
    displayName: `Bench ${local}`,
    name: { givenName: 'Bench', familyName: local, formatted: `Bench ${local}` },
    emails: [{ primary: true, type: 'work', value: userName }],
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Benchmarks', employeeNumber: String(n) },
  });
}

