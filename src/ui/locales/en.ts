import { en2fa } from './en-2fa.js';
import { enProblems } from './en-problems.js';
import { enAdmin } from './en-admin.js';
import { enBox } from './en-box.js';
import { enOidc } from './en-oidc.js';
import { enSocial } from './en-social.js';
import { enSessions } from './en-sessions.js';
import { enConsole } from './en-console.js';

/** English texts. Keys are stable ids that tests may assert on; `{name}` marks a parameter. */
export const en = {
  ...enAdmin,
  ...enBox,
  ...enSocial,
  ...enOidc,
  ...en2fa,
  ...enProblems,
  ...enSessions,
  ...enConsole,
  'app.name': 'Latchkey',
  'lang.switch': 'Language',
  'nav.signOut': 'Sign out',
  'nav.account': 'My account',
  'nav.portals': 'My portals',

  'login.title': 'Sign in',
  'login.identifier': 'Login, e-mail or phone',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.forgot': 'Forgot password?',
  'login.forgotBox': 'Forgot your password?',
  'login.failed': 'Wrong login or password.',

  'recover.title': 'Password recovery',
  'recover.intro': 'Enter your login or e-mail. We will send a link to set a new password.',
  'recover.identifier': 'Login or e-mail',
  'recover.submit': 'Continue',
  'recover.forgotLogin': 'Forgot your login?',
  'recover.forgotLoginHelp': 'Ask the administrator of your portal: they can see your login and send you a recovery link.',
  'recover.sent.title': 'Check your mail',
  'recover.sent.body':
    'If an account with this login or e-mail exists, we have sent a letter with a link to set a new password. The link is valid for {minutes} minutes.',
  'recover.sent.noMail': 'No letter? Check the spam folder, or try again in a few minutes.',
  'recover.backToLogin': 'Back to sign in',

  'recover.byEmail': 'By e-mail',
  'recover.byPhone': 'By phone number',
  'phone.title': 'Recovery by phone',
  'phone.intro': 'Enter the phone number you gave when you registered. We will send a code by SMS.',
  'phone.number': 'Phone number',
  'phone.submit': 'Continue',
  'phone.invalidNumber': 'This does not look like a phone number.',
  'phone.unavailable': 'Recovery by phone is not available here. Recover by e-mail instead.',
  'code.title': 'Enter the code from the SMS',
  'code.intro': 'If {phone} is registered, a code is on its way to it.',
  'code.label': 'Code from the SMS',
  'code.submit': 'Continue',
  'code.expiresIn': 'The code is valid for {seconds} s more.',
  'code.expired': 'The code has expired. Request a new one.',
  'code.resendIn': 'You can request a new code in {seconds} s.',
  'code.resendNow': 'You can request a new code now.',
  'code.resend': 'Send a new code',
  'code.resent': 'A new code was sent. The old one no longer works.',
  'code.noResends': 'No more codes can be sent for this request.',
  'code.notReceived': 'I did not get a code',
  'code.wrong': 'Wrong code. Check it and try again.',
  'code.tooMany': 'Too many wrong codes. Start again.',
  'help.title': 'The code does not arrive',
  'help.operator': "It may be a problem on the mobile operator's side. Wait a minute and request the code again.",
  'help.support': 'If nothing helps, contact support: {contact}.',
  'help.supportAdmin': 'If nothing helps, ask the administrator of your portal to send you a recovery link.',
  'help.tryEmail': 'Recover by e-mail instead',
  'help.startOver': 'Request a code again',

  'reset.title': 'Set a new password',
  'reset.intro': 'Choose a new password for {login}.',
  'reset.password': 'New password',
  'reset.submit': 'Save and sign in',
  'reset.invalid.title': 'This link no longer works',
  'reset.invalid.body': 'The link has expired, was already used, or a newer one was sent. Request a new one.',
  'reset.invalid.again': 'Request a new link',

  'password.rules': 'At least 8 characters. Avoid common passwords and your own name or login.',
  'weak.too_short': 'The password is too short: at least {min} characters.',
  'weak.too_long': 'The password is too long: at most 256 characters.',
  'weak.common': 'This password is too common; choose another.',
  'weak.contains_personal_data': 'The password must not contain your login, name or e-mail.',

  'portals.title': 'Choose a portal',
  'portals.intro': 'You are signed in as {login}.',
  'portals.enter': 'Sign in',
  'portals.none': 'You are not a member of any portal yet. Ask an administrator to invite you.',
  'portals.admin': 'administrator',
  'portal.landing': 'You are in {title} as {login}.',
  'passwordChanged.flash': 'Your password was changed. Other sessions were signed out.',

  'account.title': 'My account',
  'account.login': 'Login',
  'account.email': 'E-mail',
  'account.phone': 'Phone',
  'account.none': 'not set',
  'account.changePassword': 'Change password',
  'account.currentPassword': 'Current password',
  'account.newPassword': 'New password',
  'account.mustChange': 'Your administrator asked you to choose a new password before you go on.',
  'account.save': 'Save password',
  'account.wrongCurrent': 'The current password is wrong.',

  'error.title': 'Something went wrong',
  'error.rate_limited': 'Too many attempts. Try again in {seconds} seconds.',
  'error.forbidden': 'This request was refused. Reload the page and try again.',
  'error.password_change_required': 'Choose a new password first: your administrator asked you to change it.',
  'error.not_found': 'Page not found.',
  'error.invalid_request': 'The form was filled in incorrectly.',
  'error.unavailable': 'The service is temporarily unavailable. Try again shortly.',
  'error.internal': 'Unexpected error. Try again shortly.',

  'outbox.title': 'Development outbox',
  'outbox.intro': 'No SMTP server or SMS gateway is configured, so messages are kept here. Newest first.',
  'outbox.empty': 'No messages yet.',
  'outbox.to': 'To',

  'mail.greeting': 'Hello, {login}!',
  'mail.recovery.subject': 'Password recovery for {product}',
  'mail.recovery.body': 'Someone (hopefully you) asked to recover the password of your account {login}.',
  'mail.recovery.action': 'Change password',
  'mail.recovery.validity': 'The link is valid for {minutes} minutes and works once.',
  'mail.recovery.ignore': 'If you did not ask for this, ignore this letter: your password stays the same.',
  'mail.changed.subject': 'Your {product} password was changed',
  'mail.changed.body': 'The password of your account {login} was changed on {when} (UTC). Other sessions were signed out.',
  'mail.changed.notYou':
    'If this was not you: recover your password at {url} right away and tell your portal administrator.',
  'sms.code': 'Latchkey code: {code}. Valid {seconds} s.',
  'mail.signature': 'The {product} team',
} as const;

export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;
