import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, get, setUnauthorizedHandler, tenantPath, type Principal, type Tenant } from './api';
import { href, navigate, tpath, useRoute } from './router';
import { ErrorBox, Loading, useGet } from './ui';
import { SignIn } from './pages/SignIn';
import { TenantsPage } from './pages/Tenants';
import { IntegrationPage } from './pages/Integration';
import { SettingsPage } from './pages/Settings';
import { UserPage, UsersPage } from './pages/Users';
import { GroupPage, GroupsPage } from './pages/Groups';
import { AccessGroupPage, AccessGroupsPage } from './pages/AccessGroups';
import { DatasetsPage } from './pages/Datasets';
import { WebhookPage, WebhooksPage } from './pages/Webhooks';
import { LogPage } from './pages/Log';
import { AuditPage } from './pages/Audit';
import { AdminsPage } from './pages/Admins';
import { SetupLinkOpen, SetupLinksPage } from './pages/SetupLinks';
import { WizardPage } from './pages/Wizard';
import { SignInSetupPage } from './pages/SignInSetup';
import { ApiKeysPage } from './pages/ApiKeys';
import { HealthPage, OperatorHealthPage } from './pages/Health';
import { SamlPage } from './pages/Saml';
import { isSignInTestLanding, SignInTestLanding } from './signInTest';

/** Which admin routes this server has (from its OpenAPI document): pages for missing ones are hidden. */
export type Features = Set<string>;
const has = (f: Features, p: string) => f.has(`/admin/v1/tenants/{tenantId}${p}`);

const TENANT_PAGES: { key: string; label: string; need?: string; operatorOnly?: boolean }[] = [
  { key: 'setup', label: 'Guided set-up', need: '/provisioning-log' },
  { key: 'integration', label: 'IdP integration', need: '/scim-tokens' },
  { key: 'saml', label: 'SAML sign-in', need: '/connections' },
  { key: 'sign-in', label: 'Sign-in', need: '/sso' },
  { key: 'settings', label: 'Provisioning settings', need: '/settings' },
  { key: 'users', label: 'Users', need: '/scim-users' },
  { key: 'groups', label: 'Groups', need: '/scim-groups' },
  { key: 'access-groups', label: 'Access groups', need: '/access-groups' },
  { key: 'datasets', label: 'Datasets', need: '/datasets' },
  { key: 'webhooks', label: 'Webhooks', need: '/webhooks' },
  { key: 'log', label: 'Provisioning log', need: '/provisioning-log' },
  { key: 'audit', label: 'Audit log', need: '/audit-log' },
  { key: 'health', label: 'Health', need: '/provisioning-health' },
  { key: 'api-keys', label: 'API keys', need: '/api-keys' },
  { key: 'admins', label: 'Console accounts', need: '/console-accounts', operatorOnly: true },
  { key: 'setup-links', label: 'Set-up links', need: '/setup-links', operatorOnly: true },
];

export function App() {
  const [principal, setPrincipal] = useState<Principal | null | undefined>(undefined);
  const [sessionError, setSessionError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const route = useRoute();

  const loadSession = useCallback(() => {
    get<{ principal: Principal }>('/console/api/session').then(
      (r) => { setPrincipal(r.principal); setSessionError(undefined); },
      (err: ApiError) => {
        if (err.status === 401) setPrincipal(null);
        else setSessionError(err.message);
      },
    );
  }, []);

  // A set-up link brings its own session (SetupLinkOpen): asking for the old one could race it.
  // Decided at the first render (SetupLinkOpen's effect, a child's, runs first and rewrites the URL).
  const [openingSetupLink] = useState(() => /^#\/?setup\/[^/]+\/[^/]+/.test(window.location.hash));

  useEffect(() => {
    if (!openingSetupLink) loadSession();
    setUnauthorizedHandler(() => {
      setNotice('Your session has ended; sign in again.');
      setPrincipal(null);
    });
  }, [loadSession, openingSetupLink]);

  // Move focus to the page title on navigation so keyboard and screen-reader users land on the new page.
  useEffect(() => {
    let tries = 0;
    const t = setInterval(() => {
      const h = document.getElementById('page-title');
      if (h || ++tries > 40) clearInterval(t);
      if (h && !h.contains(document.activeElement)) h.focus({ preventScroll: true });
    }, 50);
    return () => clearInterval(t);
  }, [route.parts.join('/')]);

  // The broker's redirect after a console "Sign in to test" (signInTest.tsx): a page of its own.
  if (isSignInTestLanding()) return <SignInTestLanding />;
  // A set-up link (#/setup/<tenantId>/<secret>) opens a session of its own, whoever was signed in.
  if (route.parts[0] === 'setup' && route.parts[1] && route.parts[2]) {
    return <SetupLinkOpen tenantId={route.parts[1]} secret={route.parts[2]} onOpened={setPrincipal} />;
  }
  if (sessionError) return <main className="center"><ErrorBox onRetry={loadSession}>{sessionError}</ErrorBox></main>;
  if (principal === undefined) return <main className="center"><Loading what="the console" /></main>;
  if (principal === null) {
    return <SignIn notice={notice} onSignedIn={(p) => { setNotice(undefined); setPrincipal(p); if (p.kind === 'tenant_admin') navigate(tpath(p.tenantId!, '/integration')); else navigate('/tenants'); }} />;
  }
  return <Shell principal={principal} onSignOut={() => setPrincipal(null)} />;
}

function Shell({ principal, onSignOut }: { principal: Principal; onSignOut: () => void }) {
  const route = useRoute();
  const openapi = useGet<{ paths: Record<string, unknown> }>('/admin/v1/openapi.json');
  const features: Features = new Set(Object.keys(openapi.data?.paths ?? {}));
  const operator = principal.kind === 'operator';
  const [p0, tenantId, page = 'integration', sub] = route.parts;

  // Tenant admins live in their tenant; the tenant list is the operator's.
  useEffect(() => {
    if (!operator && (p0 !== 't' || tenantId !== principal.tenantId)) navigate(tpath(principal.tenantId!, principal.setupLink ? '/setup' : '/integration'));
    else if (operator && !p0) navigate('/tenants');
  }, [operator, p0, tenantId, principal.tenantId]);

  const inTenant = p0 === 't' && !!tenantId;
  const tenant = useGet<Tenant>(inTenant ? tenantPath(tenantId!) : null);

  const signOut = async () => {
    try { await api('DELETE', '/console/api/session'); } catch { /* the cookie is cleared either way */ }
    onSignOut();
    navigate('');
  };

  const pages = TENANT_PAGES.filter((p) => (!p.operatorOnly || operator) && (!p.need || openapi.loading || has(features, p.need)));

  let content;
  if (openapi.loading) content = <Loading what="the console" />;
  else if (!inTenant) content = !operator ? <Loading what="your tenant" /> : p0 === 'health' ? <OperatorHealthPage /> : p0 === 'audit' ? <AuditPage /> : <TenantsPage />;
  else {
    const t = tenantId!;
    switch (page) {
      case 'integration': content = <IntegrationPage tenantId={t} features={features} />; break;
      case 'saml': content = <SamlPage tenantId={t} connectionId={sub} />; break;
      case 'sign-in': content = <SignInSetupPage tenantId={t} />; break;
      case 'settings': content = <SettingsPage tenantId={t} />; break;
      case 'users': content = sub ? <UserPage tenantId={t} userId={sub} features={features} /> : <UsersPage tenantId={t} features={features} />; break;
      case 'groups': content = sub ? <GroupPage tenantId={t} groupId={sub} features={features} /> : <GroupsPage tenantId={t} features={features} />; break;
      case 'access-groups': content = sub ? <AccessGroupPage tenantId={t} agId={sub} /> : <AccessGroupsPage tenantId={t} />; break;
      case 'datasets': content = <DatasetsPage tenantId={t} />; break;
      case 'webhooks': content = sub ? <WebhookPage tenantId={t} webhookId={sub} /> : <WebhooksPage tenantId={t} />; break;
      case 'log': content = <LogPage tenantId={t} />; break;
      case 'audit': content = <AuditPage tenantId={t} />; break;
      case 'health': content = <HealthPage tenantId={t} />; break;
      case 'api-keys': content = <ApiKeysPage tenantId={t} />; break;
      case 'admins': content = operator ? <AdminsPage tenantId={t} /> : null; break;
      case 'setup-links': content = operator ? <SetupLinksPage tenantId={t} /> : null; break;
      case 'setup': content = <WizardPage tenantId={t} features={features} />; break;
      default: content = <ErrorBox>There is no page called “{page}”.</ErrorBox>;
    }
  }

  return (
    <div className="shell">
      {/* Not a hash link: the hash is the router's. */}
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header className="topbar">
        <a className="brand" href={operator ? href('/tenants') : href(tpath(principal.tenantId!, '/integration'))}>idpbridge</a>
        {inTenant && (
          <span className="crumb">
            {operator && <><a href={href('/tenants')}>Tenants</a><span aria-hidden="true"> / </span></>}
            <span data-testid="tenant-name">{tenant.data?.name ?? (tenant.error ? 'Unknown tenant' : '…')}</span>
          </span>
        )}
        {operator && <a className="top-link" href={href('/health')} aria-current={p0 === 'health' ? 'page' : undefined}>Provisioning health</a>}
        {operator && <a className="top-link" href={href('/audit')} aria-current={p0 === 'audit' ? 'page' : undefined}>Audit log</a>}
        <span className="who">
          <span className="who-label">{operator ? 'Operator' : principal.login}</span>
          <button type="button" className="secondary small" onClick={signOut}>Sign out</button>
        </span>
      </header>
      {inTenant && (
        <nav className="tabs" aria-label="Tenant pages">
          <ul>
            {pages.map((p) => (
              <li key={p.key}>
                <a href={href(tpath(tenantId!, `/${p.key}`))} aria-current={page === p.key ? 'page' : undefined}>{p.label}</a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" className="content" tabIndex={-1}>
        {inTenant && tenant.error ? <ErrorBox onRetry={tenant.reload}>{tenant.error}</ErrorBox> : content}
      </main>
    </div>
  );
}
