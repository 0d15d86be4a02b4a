/** English texts of the OpenID Connect provider's pages (SPEC §10). */
export const enOidc = {
  'oidc.notMember.title': 'No access to this application',
  'oidc.notMember.body': 'This application belongs to the portal “{portal}”, and you ({login}) are not an active member of it.',
  'oidc.notMember.hint': 'Ask an administrator of the portal to invite you, or sign in with another account.',
  'oidc.notMember.back': 'Back to the application',
  'oidc.logout.title': 'Sign out',
  'oidc.logout.body': 'The application asks to sign you out of {product}. Sign out?',
  'oidc.logout.confirm': 'Yes, sign me out',
  'oidc.logout.cancel': 'No, stay signed in',
  'oidc.logout.done': 'You have signed out.',
  'oidc.error.title': 'The application’s request cannot be completed',
  'oidc.error.body': 'The application that sent you here made a request {product} cannot accept ({error}). Go back to it and try again, or tell its developers.',
  'oidc.continue.title': 'Signed in. Back to the application…',
  'oidc.continue.link': 'Continue to the application',
};
